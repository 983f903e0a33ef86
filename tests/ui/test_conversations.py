"""The chat function keeps answers in the owner's conversation; whose conversations they are;
a stored conversation back as chat messages with working citation links."""

from __future__ import annotations

import gc
import sqlite3
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.conversations import ConversationStore
from assistant.ui.chat import Saved, answer_and_save
from assistant.ui.conversations import chat_messages
from assistant.ui.names import SourceNames
from assistant.ui.owners import first_visit_id, owner_of, with_browser_id
from assistant.ui.render import cite_href
from assistant.ui.upkeep import ExportFolder, apply_retention_daily, export_file
from tests.conftest import copy_index, make_settings
from tests.servers import wait_for

QUESTION = "Which tech giants had their Hong Kong stablecoin plans stopped by Beijing?"
FOLLOW_UP = "And who first reported the move?"


@pytest.fixture
def assistant(seed_index: Path, tmp_path: Path) -> Assistant:
    """An Assistant on a writable copy of the seed index (its conversations are its own)."""
    index_dir = tmp_path / "index"
    copy_index(seed_index, index_dir)
    return Assistant(make_settings(index_dir))


def test_answers_are_kept_in_one_conversation(assistant: Assistant) -> None:
    updates = list(answer_and_save(assistant, QUESTION, [], {}, "browser:" + "a" * 32, None))
    assert all(saved is None for *_, saved in updates[:-1])
    html, turns, conversation_id, saved = updates[-1]
    assert isinstance(saved, Saved)
    assert conversation_id == saved.conversation_id

    history = [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": html}]
    *_, (_, turns2, same_id, _) = answer_and_save(
        assistant, FOLLOW_UP, history, turns, "browser:" + "a" * 32, conversation_id
    )
    assert same_id == conversation_id
    stored = assistant.conversations.get("browser:" + "a" * 32, conversation_id)
    assert stored is not None
    assert [turn.question for turn in stored.turns] == [QUESTION, FOLLOW_UP]
    assert stored.turns[1].answer == turns2[3].answer

    # Reopened: the same messages, and citation links naming the same spans.
    messages, reopened = chat_messages(stored, SourceNames(assistant.settings))
    assert [m["role"] for m in messages] == ["user", "assistant"] * 2
    assert sorted(reopened) == [1, 3]
    first = stored.turns[0].answer.citations[0]
    assert cite_href(first) in messages[1]["content"]


def test_errors_and_anonymous_chats_are_not_kept(assistant: Assistant) -> None:
    *_, (html, _, conversation_id, saved) = answer_and_save(
        assistant, "   ", [], {}, "user:alice", None
    )
    assert "qa-error" in html
    assert saved is None
    assert conversation_id is None
    *_, (_, turns, _, saved) = answer_and_save(assistant, QUESTION, [], {}, None, None)
    assert turns
    assert saved is None
    assert assistant.conversations.list_conversations("user:alice") == []


def test_owner_is_the_login_else_the_browser() -> None:
    browser = with_browser_id(None)
    assert owner_of(None, browser) == f"browser:{browser['id']}"
    assert with_browser_id(browser) == browser  # kept once made
    assert owner_of("alice", browser) == "user:alice"  # a login wins over the browser id
    assert owner_of(None, {"id": "user:alice"}) is None  # a browser cannot name a user
    assert owner_of(None, {"id": "../../x"}) is None
    assert with_browser_id({"id": "forged", "active": "x"})["id"] != "forged"


def test_a_first_visit_id_is_the_pages_own_and_agreed_by_all_its_events() -> None:
    first = first_visit_id("server secret", "session-one")
    assert first == first_visit_id("server secret", "session-one")  # any event of the page
    assert first != first_visit_id("server secret", "session-two")  # another page
    assert first != first_visit_id("another secret", "session-one")  # not from the session alone
    assert first_visit_id("server secret", None) is None
    assert owner_of(None, {}, first) == f"browser:{first}"  # before the page stored any id
    assert with_browser_id({}, first) == {"id": first}  # the id the load event stores
    stored = with_browser_id(None)
    assert owner_of(None, stored, first) == f"browser:{stored['id']}"  # a stored id wins
    assert with_browser_id(stored, first) == stored
    assert owner_of(None, {}, "not-an-id") is None


def test_export_file_is_named_after_the_title(assistant: Assistant, tmp_path: Path) -> None:
    answer = assistant.ask(QUESTION)
    saved = assistant.conversations.save_turn("user:alice", None, 0, QUESTION, answer)
    conversation = assistant.conversations.get("user:alice", saved.id)
    assert conversation is not None
    path = export_file(conversation, tmp_path / "exports")
    assert path.name == "which-tech-giants-had-their-hong-kong-stablecoin-plans.md"
    assert path.read_text(encoding="utf-8").startswith("# Which tech giants")


def test_exports_leave_with_their_conversation_and_their_chat(assistant: Assistant) -> None:
    answer = assistant.ask(QUESTION)
    saved = assistant.conversations.save_turn("user:alice", None, 0, QUESTION, answer)
    conversation = assistant.conversations.get("user:alice", saved.id)
    assert conversation is not None

    class Chat:  # what the folder belongs to (the Blocks in the app)
        pass

    chat = Chat()
    folder = ExportFolder(chat)
    written = folder.write(conversation)
    assert written.is_file()
    assert written.is_relative_to(folder.path)
    folder.forget(conversation.id)  # the conversation was deleted
    assert not written.exists()
    assert folder.path.is_dir()

    folder.write(conversation)
    del chat  # the chat is gone: so is every export it wrote
    gc.collect()
    assert not folder.path.exists()


def test_serving_applies_the_retention_at_start(assistant: Assistant, tmp_path: Path) -> None:
    answer = assistant.ask(QUESTION)
    path = tmp_path / "conversations.sqlite3"
    now = [1_800_000_000.0]
    ConversationStore(path, clock=lambda: now[0]).save_turn("user:alice", None, 0, QUESTION, answer)
    now[0] += 31 * 86400
    # A store nobody uses: only the serving side's sweep can remove the old conversation.
    store = ConversationStore(path, retention_days=30, clock=lambda: now[0])
    thread = apply_retention_daily(store)
    assert thread.daemon
    wait_for(lambda: count_rows(path) == 0, "the retention sweep")


def count_rows(path: Path) -> int:
    """Conversations in the file, whoever owns them."""
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT count(*) FROM conversations").fetchone()[0])
