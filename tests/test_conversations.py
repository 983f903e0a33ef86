"""The conversation store: per owner, newest first, rename, delete and undo, search, retention,
migration of an existing index, and the Markdown export."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.catalog_pg import PostgresCatalog
from assistant.conversation_schema import SCHEMA_VERSION, ConversationStoreError
from assistant.conversation_views import conversation_markdown
from assistant.conversations import UNDO_SECONDS, ConversationStore, title_from_question
from assistant.sqlstore import PostgresStore
from assistant.types import Answer
from tests.conftest import copy_index, make_settings

QUESTION = "Which tech giants had their Hong Kong stablecoin plans stopped by Beijing?"
FOLLOW_UP = "Who first reported the move?"


class Clock:
    """A settable clock, so retention is tested without waiting."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def answers(seed_assistant: Assistant) -> tuple[Answer, Answer]:
    """Two real answers from the seed index (the second a follow-up)."""
    first = seed_assistant.ask(QUESTION)
    second = seed_assistant.ask(FOLLOW_UP, [("user", QUESTION), ("assistant", first.text)])
    assert first.citations
    assert second.citations
    return first, second


@pytest.fixture
def clock() -> Clock:
    return Clock()


Opener = Callable[..., ConversationStore]
_databases = itertools.count()


@pytest.fixture(params=["sqlite", "postgres"])
def place(request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    """Opens a conversation store on one database, each call as another process would: a
    SQLite file, or a PostgreSQL catalog database (server mode)."""
    if request.param == "sqlite":
        path = tmp_path / "conversations.sqlite3"
        return lambda **options: ConversationStore(path, **options)
    url = request.getfixturevalue("postgres").create_database(f"talks_{next(_databases)}")
    return lambda **options: ConversationStore(PostgresStore(PostgresCatalog(url)), **options)


@pytest.fixture
def store(place: Opener, clock: Clock) -> ConversationStore:
    return place(clock=clock)


def test_turns_come_back_with_their_citations(
    store: ConversationStore, answers: tuple[Answer, Answer], place: Opener
) -> None:
    first, second = answers
    summary = store.save_turn("user:alice", None, 0, QUESTION, first)
    assert summary.title == title_from_question(QUESTION)
    assert summary.turns == 1
    again = store.save_turn("user:alice", summary.id, 1, FOLLOW_UP, second)
    assert again.id == summary.id
    assert again.turns == 2

    # A new store on the same file (a restart) reads the same conversation back.
    reopened = place()
    conversation = reopened.get("user:alice", summary.id)
    assert conversation is not None
    assert [turn.question for turn in conversation.turns] == [QUESTION, FOLLOW_UP]
    assert conversation.turns[0].answer == first
    assert conversation.turns[1].answer.citations == second.citations
    assert conversation.turns[0].answer.citations[0].doc_id


@pytest.mark.parametrize(
    ("ordinal", "question", "answer_is_text", "error"),
    [
        (-1, FOLLOW_UP, False, ValueError),  # it replaced every turn of the conversation
        (True, FOLLOW_UP, False, TypeError),
        ("1", FOLLOW_UP, False, TypeError),
        (1, None, False, ValueError),
        (1, "  ", False, ValueError),
        (1, FOLLOW_UP, True, TypeError),
    ],
)
def test_a_bad_turn_is_refused_and_the_conversation_kept(
    store: ConversationStore,
    answers: tuple[Answer, Answer],
    ordinal: object,
    question: object,
    answer_is_text: bool,
    error: type[Exception],
) -> None:
    first, second = answers
    summary = store.save_turn("user:alice", None, 0, QUESTION, first)
    answer: object = second.text if answer_is_text else second
    with pytest.raises(error):
        store.save_turn("user:alice", summary.id, ordinal, question, answer)  # type: ignore[arg-type]
    kept = store.get("user:alice", summary.id)
    assert kept is not None
    assert [turn.question for turn in kept.turns] == [QUESTION]


def test_another_owner_sees_nothing_and_changes_nothing(
    store: ConversationStore, answers: tuple[Answer, Answer]
) -> None:
    mine = store.save_turn("user:alice", None, 0, QUESTION, answers[0])
    assert store.list_conversations("user:bob") == []
    assert store.get("user:bob", mine.id) is None
    assert store.rename("user:bob", mine.id, "stolen") is None
    assert store.delete("user:bob", mine.id) is False
    # Writing to someone else's conversation id starts a new one of your own instead.
    theirs = store.save_turn("user:bob", mine.id, 1, FOLLOW_UP, answers[1])
    assert theirs.id != mine.id
    alice = store.get("user:alice", mine.id)
    assert alice is not None
    assert alice.title != "stolen"
    assert len(alice.turns) == 1
    assert [c.id for c in store.list_conversations("user:bob")] == [theirs.id]


def test_newest_first_rename_and_search(
    store: ConversationStore, clock: Clock, answers: tuple[Answer, Answer]
) -> None:
    first, second = answers
    older = store.save_turn("b:1", None, 0, QUESTION, first)
    clock.now += 60
    newer = store.save_turn("b:1", None, 0, "What is the e-CNY?", second)
    assert [c.id for c in store.list_conversations("b:1")] == [newer.id, older.id]
    clock.now += 60
    store.save_turn("b:1", older.id, 1, FOLLOW_UP, second)  # a new question moves it up
    assert [c.id for c in store.list_conversations("b:1")] == [older.id, newer.id]

    renamed = store.rename("b:1", newer.id, "  Xylophone\nlesson   notes ")
    assert renamed is not None
    assert renamed.title == "Xylophone lesson notes"
    with pytest.raises(ValueError, match="blank"):
        store.rename("b:1", newer.id, "   ")

    assert [c.id for c in store.list_conversations("b:1", "xylophone")] == [newer.id]  # title
    assert [c.id for c in store.list_conversations("b:1", "stablecoin")] == [older.id]  # question
    word = first.text.split()[2]  # a word of the first answer's text
    assert older.id in [c.id for c in store.list_conversations("b:1", word)]
    assert store.list_conversations("b:1", "50%_off") == []  # LIKE wildcards are literal


def test_retried_question_replaces_what_followed(
    store: ConversationStore, answers: tuple[Answer, Answer]
) -> None:
    first, second = answers
    summary = store.save_turn("b:1", None, 0, QUESTION, first)
    store.save_turn("b:1", summary.id, 1, FOLLOW_UP, second)
    store.save_turn("b:1", summary.id, 1, "Who reported it?", second)
    conversation = store.get("b:1", summary.id)
    assert conversation is not None
    assert [t.question for t in conversation.turns] == [QUESTION, "Who reported it?"]


def test_truncate_keeps_the_first_turns_and_the_conversation(
    store: ConversationStore, answers: tuple[Answer, Answer]
) -> None:
    first, second = answers
    summary = store.save_turn("b:1", None, 0, QUESTION, first)
    store.save_turn("b:1", summary.id, 1, FOLLOW_UP, second)
    assert store.truncate("b:2", summary.id, 0) is None  # not theirs
    kept = store.truncate("b:1", summary.id, 1)
    assert kept is not None
    assert kept.turns == 1
    emptied = store.truncate("b:1", summary.id, 0)
    assert emptied is not None
    assert emptied.turns == 0
    assert emptied.title == summary.title


def test_delete_then_undo_then_gone(
    store: ConversationStore, clock: Clock, answers: tuple[Answer, Answer]
) -> None:
    a = store.save_turn("b:1", None, 0, QUESTION, answers[0])
    b = store.save_turn("b:1", None, 0, FOLLOW_UP, answers[1])
    assert store.delete("b:1", a.id)
    assert [c.id for c in store.list_conversations("b:1")] == [b.id]
    assert store.get("b:1", a.id) is None
    restored = store.restore("b:1", a.id)
    assert restored is not None
    assert restored.turns == 1
    assert {c.id for c in store.list_conversations("b:1")} == {a.id, b.id}

    # Only the latest delete can be undone.
    store.delete("b:1", a.id)
    store.delete("b:1", b.id)
    assert store.restore("b:1", a.id) is None
    assert store.restore("b:1", b.id) is not None
    # ...and only within the undo window.
    store.delete("b:1", b.id)
    clock.now += UNDO_SECONDS + 1
    assert store.restore("b:1", b.id) is None
    store.apply_retention()
    # Gone from the database, not only hidden.
    assert store.store.execute("SELECT count(*) FROM conversations").fetchone()[0] == 0
    assert store.store.execute("SELECT count(*) FROM turns").fetchone()[0] == 0
    assert store.list_conversations("b:1") == []


def test_retention_on_first_use_and_daily(
    place: Opener, clock: Clock, answers: tuple[Answer, Answer]
) -> None:
    old = place(clock=clock).save_turn("b:1", None, 0, QUESTION, answers[0])
    clock.now += 20 * 86400
    fresh = place(clock=clock).save_turn("b:1", None, 0, FOLLOW_UP, answers[1])

    forever = place(retention_days=0, clock=clock)
    assert len(forever.list_conversations("b:1")) == 2

    store = place(retention_days=10, clock=clock)  # a restart, 10-day setting
    assert [c.id for c in store.list_conversations("b:1")] == [fresh.id]  # swept on first use
    assert store.get("b:1", old.id) is None

    clock.now += 10 * 86400 + 1  # the same process a day after the fresh one expired
    assert store.list_conversations("b:1") == []


def test_an_existing_index_opens_and_gains_conversations(seed_index: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    copy_index(seed_index, index_dir)  # an index made without a conversation file
    (index_dir / "conversations.sqlite3").unlink(missing_ok=True)
    assistant = Assistant(make_settings(index_dir))
    answer = assistant.ask(QUESTION)
    summary = assistant.conversations.save_turn("b:1", None, 0, QUESTION, answer)
    assert assistant.conversations.list_conversations("b:1") == [summary]
    assert "Ant Group" in assistant.ask(QUESTION).text  # the catalog was not touched
    with sqlite3.connect(index_dir / "conversations.sqlite3") as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_reads_before_any_conversation_make_no_file_nor_folder(
    tmp_path: Path, answers: tuple[Answer, Answer]
) -> None:
    # An assistant pointed at a folder that is not there (a typo) made it on the first read.
    index_dir = tmp_path / "no-such-index"
    conversations = Assistant(make_settings(index_dir)).conversations
    assert conversations.list_conversations("b:1", "stablecoin") == []
    assert conversations.get("b:1", "c1") is None
    assert conversations.truncate("b:1", "c1", 0) is None
    assert conversations.rename("b:1", "c1", "A title") is None
    assert conversations.delete("b:1", "c1") is False
    assert conversations.restore("b:1", "c1") is None
    assert conversations.apply_retention() == 0
    with pytest.raises(ValueError, match="owner"):
        conversations.list_conversations("")
    with pytest.raises(ValueError, match="blank"):
        conversations.rename("b:1", "c1", "  ")
    assert not index_dir.exists()
    summary = conversations.save_turn("b:1", None, 0, QUESTION, answers[0])  # the first write
    assert conversations.list_conversations("b:1") == [summary]
    assert (index_dir / "conversations.sqlite3").is_file()


def test_an_old_file_is_migrated_and_a_newer_one_refused(tmp_path: Path) -> None:
    old = tmp_path / "old.sqlite3"
    sqlite3.connect(old).close()  # version 0: an empty file
    store = ConversationStore(old)
    assert store.list_conversations("b:1") == []
    with sqlite3.connect(old) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION

    newer = tmp_path / "newer.sqlite3"
    with sqlite3.connect(newer) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(ConversationStoreError, match="newer"):
        ConversationStore(newer).list_conversations("b:1")


def test_titles_are_cut_at_a_word() -> None:
    assert title_from_question("  What is\nthe e-CNY? ") == "What is the e-CNY?"
    long = title_from_question("word " * 40)
    assert long.endswith("…")
    assert len(long) <= 61
    assert "  " not in long
    assert not long[:-1].endswith(" ")
    assert title_from_question("x" * 100) == "x" * 60 + "…"


def test_markdown_export_has_each_answer_and_its_numbered_sources(
    store: ConversationStore, answers: tuple[Answer, Answer]
) -> None:
    first, second = answers
    summary = store.save_turn("b:1", None, 0, QUESTION, first)
    store.save_turn("b:1", summary.id, 1, FOLLOW_UP, second)
    conversation = store.get("b:1", summary.id)
    assert conversation is not None
    markdown = conversation_markdown(conversation)
    assert markdown.startswith(f"# {summary.title}\n")
    assert f"## {QUESTION}\n\n{first.text}\n" in markdown
    assert f"## {FOLLOW_UP}\n" in markdown
    for citation in first.citations:
        title = citation.title or citation.source
        assert f"[{citation.id}] **{title}** — {citation.location()}\n" in markdown
        assert "> " + citation.quote.splitlines()[0] in markdown
    assert first.related
    after = markdown.split(f"## {FOLLOW_UP}\n", 1)[0].split("Also found:\n\n", 1)[1]
    for passage in first.related:  # where to read on: place, then the sentence on one line
        entry = f"- **{passage.title or passage.source}** — {passage.location()}\n  > "
        assert after.startswith(entry)
        shown, after = after.removeprefix(entry).split("\n", 1)
        assert " ".join(passage.text.split()).startswith(shown.removesuffix("…"))
