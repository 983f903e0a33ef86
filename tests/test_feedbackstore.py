"""The web chat's feedback on both of its places (the data dir's JSON-lines file, the PostgreSQL
catalog database in server mode): what a record keeps, their order, the latest record of an id
as its current state, the quality report over either, a file of an earlier release, and a lost
database."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from assistant.catalog_pg import PostgresCatalog
from assistant.errors import CatalogUnavailableError
from assistant.feedbackstore import (
    FIELDS,
    FeedbackFile,
    FeedbackStore,
    FeedbackTable,
    feedback_record,
    feedback_store,
    latest_feedback,
)
from assistant.quality import build_report
from assistant.sqlstore import PostgresStore
from assistant.types import Answer, AnswerSentence, Citation, Message
from tests.conftest import make_settings
from tests.pg_server import PASSWORD, Postgres

Opener = Callable[[], FeedbackStore]
_databases = itertools.count()

PARKING = "Where do visitors park?"
ANSWER = Answer(
    question=PARKING,
    text="In bay C [1]. Ask at the desk.",
    citations=(
        Citation(
            id=1,
            source="facilities/parking.md",
            start=10,
            end=24,
            quote="Visitors: bay C",
            score=0.8125,
            page=2,
            section="Visitors",
            title="Parking",
            doc_id="d1",
        ),
    ),
    confidence=0.71234,
    sentences=(
        AnswerSentence(text="In bay C [1].", citations=(1,), supported=True, support=0.8),
        AnswerSentence(text="Ask at the desk.", supported=False),
    ),
    support=0.5,
    standalone_question="Where do visitors to the office park?",
)
REFUSAL = Answer(question="Who won the 1930 cup?", text="I could not find it.", refused=True)


@pytest.fixture(params=["file", "postgres"])
def place(request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    """Opens the feedback of one place, each call as another process would: the file, or a
    PostgreSQL catalog database (server mode)."""
    if request.param == "file":
        path = tmp_path / "data" / "feedback.jsonl"
        return lambda: FeedbackFile(path)
    url = request.getfixturevalue("postgres").create_database(f"feedback_{next(_databases)}")
    return lambda: FeedbackTable(PostgresStore(PostgresCatalog(url)))


def as_stored(record: dict[str, Any]) -> dict[str, Any]:
    """A record as JSON keeps it (tuples are lists)."""
    return dict(json.loads(json.dumps(record)))


def test_a_record_keeps_every_field_and_records_keep_their_order(
    place: Opener, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path / "index", answerer="extractive", top_k=7)
    history = (
        Message(role="user", content="Is there parking?"),
        Message(role="assistant", content="Yes, for visitors."),
    )
    full = feedback_record(
        ANSWER, "down", settings, comment=" Bay D now. ", user="al", history=history
    )
    assert set(full) == set(FIELDS)
    refusal = feedback_record(REFUSAL, "down", settings)
    store = place()
    store.append(full)
    store.append(refusal)
    kept = place().records()  # another process reads them
    assert kept == [as_stored(full), as_stored(refusal)]
    assert kept[0]["comment"] == "Bay D now."
    assert kept[0]["settings"]["top_k"] == 7
    assert kept[0]["unsupported_sentences"] == ["Ask at the desk."]
    assert kept[0]["citations"][0]["quote"] == "Visitors: bay C"
    assert kept[1]["should_have_been_answered"] is True
    assert kept[1]["history"] == []
    assert place().records(refusal["id"]) == [as_stored(refusal)]
    assert place().records("no-such-id") == []


def test_the_latest_record_of_an_id_is_its_state_and_a_vote_keeps_the_comment(
    place: Opener, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path / "index")
    store = place()
    first = feedback_record(ANSWER, "up", settings, user="bob")
    other = feedback_record(REFUSAL, "up", settings, user="carol")
    for record in (
        first,
        other,
        feedback_record(ANSWER, "down", settings, user="bob", feedback_id=first["id"]),
        feedback_record(
            ANSWER, "down", settings, user="bob", feedback_id=first["id"], comment="The bay moved."
        ),
        # The vote changed once more: no comment in this record, the earlier one stands.
        feedback_record(ANSWER, "down", settings, user="bob", feedback_id=first["id"]),
    ):
        store.append(record)
    assert [r["rating"] for r in place().records(first["id"])] == ["up", "down", "down", "down"]
    current = latest_feedback(place().records())
    assert set(current) == {first["id"], other["id"]}
    assert (current[first["id"]]["rating"], current[first["id"]]["comment"]) == (
        "down",
        "The bay moved.",
    )
    report = build_report([], place().records())
    assert (report.thumbs_up, report.thumbs_down) == (1, 1)
    assert [(r.feedback_id, r.comment) for r in report.reported] == [
        (first["id"], "The bay moved.")
    ]
    # Taken back (rating None): neither up nor down any more.
    store.append(feedback_record(ANSWER, None, settings, user="bob", feedback_id=first["id"]))
    report = build_report([], place().records())
    assert (report.thumbs_up, report.thumbs_down, report.reported) == (1, 0, ())


def test_the_settings_choose_the_place(postgres: Postgres, tmp_path: Path) -> None:
    embedded = feedback_store(make_settings(tmp_path / "index", data_dir=tmp_path / "data"))
    assert isinstance(embedded, FeedbackFile)
    assert embedded.path == tmp_path / "data" / "feedback.jsonl"
    url = postgres.create_database(f"feedback_{next(_databases)}")
    shared = feedback_store(make_settings(tmp_path / "index", catalog_url=url))
    assert isinstance(shared, FeedbackTable)
    shared.append(feedback_record(ANSWER, "up", make_settings(tmp_path / "index")))
    assert len(FeedbackTable(PostgresStore(PostgresCatalog(url))).records()) == 1
    assert not (tmp_path / "data" / "feedback.jsonl").exists()


def test_a_file_of_an_earlier_release_reads_as_before(tmp_path: Path) -> None:
    path = tmp_path / "feedback.jsonl"
    # Records as releases before histories were kept wrote them, and a line edited by hand.
    lines = [
        {
            "id": "f1",
            "timestamp": "2026-10-01T09:00:00+00:00",
            "rating": "down",
            "comment": "Wrong bay.",
            "user": "al",
            "question": PARKING,
            "answer": "Bay A.",
            "refused": False,
            "citations": [],
        },
        {
            "id": "f1",
            "timestamp": "2026-10-01T09:01:00+00:00",
            "rating": "down",
            "comment": None,
            "user": "al",
            "question": PARKING,
            "answer": "Bay A.",
            "refused": False,
            "citations": [],
            "note": "kept as written",
        },
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    file = FeedbackFile(path)
    assert file.records() == lines
    file.append({"id": "f2", "rating": "up"})
    assert [r["id"] for r in file.records()] == ["f1", "f1", "f2"]
    [reported] = build_report([], file.records()).reported
    assert (reported.feedback_id, reported.comment, reported.history) == ("f1", "Wrong bay.", ())


def test_a_lost_database_is_a_clear_error_and_the_next_call_recovers(
    postgres: Postgres, tmp_path: Path
) -> None:
    store = FeedbackTable(PostgresStore(PostgresCatalog(postgres.create_database("lost_fb"))))
    settings = make_settings(tmp_path / "index")
    store.append(feedback_record(ANSWER, "up", settings))
    postgres.stop()
    try:
        with pytest.raises(CatalogUnavailableError, match="is unavailable") as raised:
            store.append(feedback_record(ANSWER, "down", settings))
        assert PASSWORD not in str(raised.value)
    finally:
        postgres.start()
    store.append(feedback_record(REFUSAL, "down", settings))
    assert [r["rating"] for r in store.records()] == ["up", "down"]
