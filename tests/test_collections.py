"""Collections: a question limited to some collections sees nothing of the others."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.catalog import VECTOR_COLLECTIONS
from assistant.catalog_sqlite import SqliteCatalog
from assistant.collections import CollectionError, collection_for, restrict
from assistant.core import Assistant
from assistant.vectorstore import in_collections
from tests.conftest import make_settings, run_cli

DOCS = {
    "hr/salaries.md": "# Salary bands\n\nThe salary band for a senior engineer is 95,000 to "
    "120,000 euros per year. Bonuses are paid once a year, in March, after the review round.\n",
    "hr/leave.md": "# Parental leave\n\nParents get sixteen weeks of paid parental leave. The "
    "leave can be split into two blocks taken within the child's first two years.\n",
    "eng/deploy.md": "# Deploying the billing service\n\nTo deploy the billing service, run "
    "`make deploy` from the release branch. Deployments are frozen on Fridays after noon.\n",
    "eng/oncall.md": "# On-call rota\n\nThe on-call engineer answers pages within fifteen "
    "minutes. Handover happens every Monday at ten in the morning.\n",
    "legal/contracts.md": "# Supplier contracts\n\nSupplier contracts above 50,000 euros need "
    "a second signature from the finance director before they are sent out.\n",
}
SALARY = "How much does a senior engineer earn per year?"
QUESTIONS = [
    SALARY,
    "When is the on-call handover?",
    "How long is parental leave?",
    "Who signs big supplier contracts?",
    "How do I deploy billing?",
]


def write_docs(root: Path) -> Path:
    for name, text in DOCS.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    return root


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_docs(tmp_path_factory.mktemp("team-docs"))


@pytest.fixture(scope="module")
def team(docs: Path, tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    """hr/ and legal/ in their own collections, eng/ in `default`."""
    assistant = Assistant(make_settings(tmp_path_factory.mktemp("team-index")))
    assert assistant.ingest([docs / "hr"], collection="hr").added == 2
    assert assistant.ingest([docs / "legal"], collection="legal").added == 1
    assert assistant.ingest([docs / "eng"]).added == 2
    return assistant


def test_collections_are_listed_with_their_sizes(team: Assistant) -> None:
    found = {c.name: (c.documents, c.chunks) for c in team.collections()}
    assert found == {"default": (2, 2), "hr": (2, 2), "legal": (1, 1)}
    by_source = {Path(r.source).name: r.collection for r in team.documents()}
    assert by_source["salaries.md"] == "hr"
    assert by_source["deploy.md"] == "default"


def test_a_restricted_question_never_sees_another_collection(team: Assistant) -> None:
    open_answer = team.ask(SALARY)
    assert not open_answer.refused
    assert "95,000" in open_answer.text
    allowed = team.ask(SALARY, collections=["hr"])
    assert "95,000" in allowed.text
    assert {Path(c.source).parent.name for c in allowed.citations} == {"hr"}
    for collections in (["default"], ["legal"], ["default", "legal"]):
        retrieval = team.retrieve(SALARY, 10, collections=collections)
        assert {Path(p.source).parent.name for p in retrieval.passages} <= {"eng", "legal"}
        answer = team.ask(SALARY, collections=collections)
        assert answer.refused, answer.text
        assert not answer.citations


def test_a_forbidden_answer_is_refused_exactly_as_an_absent_one(
    docs: Path, team: Assistant, tmp_path: Path
) -> None:
    """Asked of `default` only, the index answers as an index holding only `default` would."""
    only_eng = Assistant(make_settings(tmp_path / "index"))
    only_eng.ingest([docs / "eng"])
    for question in (SALARY, "Who has to sign a contract of 80,000 euros?"):
        restricted = team.ask(question, collections=["default"])
        alone = only_eng.ask(question)
        assert (restricted.refused, restricted.text) == (alone.refused, alone.text)
        assert restricted.confidence == pytest.approx(alone.confidence, abs=1e-6)
        a = team.retrieve(question, 5, collections=["default"])
        b = only_eng.retrieve(question, 5)
        assert a.term_counts == b.term_counts
        assert a.chunk_count == b.chunk_count == 2


def test_a_misspelt_word_is_read_only_against_what_the_question_may_search(
    docs: Path, team: Assistant, tmp_path: Path
) -> None:
    """A slip of "supplier", a word only `legal` holds: asked of `default`, it stays as typed,
    and the answer is the one an index holding only `default` gives."""
    typed = "Who signs big suplier contracts?"
    assert team.prepare_question(typed).standalone == "Who signs big supplier contracts?"
    assert team.prepare_question(typed, collections=["legal"]).standalone == (
        "Who signs big supplier contracts?"
    )
    assert team.prepare_question(typed, collections=["default", "hr"]).standalone == typed
    only_eng = Assistant(make_settings(tmp_path / "index"))
    only_eng.ingest([docs / "eng"])
    restricted = team.ask(typed, collections=["default"])
    alone = only_eng.ask(typed)
    assert restricted.standalone_question is None
    assert (restricted.refused, restricted.text) == (alone.refused, alone.text)
    assert restricted.confidence == pytest.approx(alone.confidence, abs=1e-6)
    assert "second signature" in team.ask(typed, collections=["legal"]).text


def test_forbidden_documents_cannot_push_an_allowed_one_out(tmp_path: Path) -> None:
    """40 near-copies of the question in another collection fill every candidate slot of an
    unrestricted search; restricted, the one allowed passage is still found."""
    folder = tmp_path / "docs"
    (folder / "noise").mkdir(parents=True)
    for i in range(40):
        (folder / "noise" / f"memo{i:02d}.md").write_text(
            f"# Memo {i}\n\nWhat is the expense limit for client dinners in region {i}? This "
            "memo asks about the expense limit for client dinners and does not say.\n",
            "utf-8",
        )
    (folder / "policy.md").write_text(
        "# Travel policy\n\nThe company pays client dinners up to 80 euros per guest.\n", "utf-8"
    )
    assistant = Assistant(make_settings(tmp_path / "index", candidates=30))
    assistant.ingest([folder / "noise"], collection="noise")
    assistant.ingest([folder / "policy.md"], collection="finance")
    question = "What is the expense limit for client dinners?"
    unrestricted = assistant.retrieve(question, 5)
    assert all("memo" in p.source for p in unrestricted.passages)
    restricted = assistant.retrieve(question, 5, collections=["finance"])
    assert [Path(p.source).name for p in restricted.passages] == ["policy.md"]
    assert "80 euros" in assistant.ask(question, collections=["finance"]).text


def test_moving_a_document_retags_it_without_re_embedding(docs: Path, tmp_path: Path) -> None:
    assistant = Assistant(make_settings(tmp_path / "index"))
    assistant.ingest([docs / "hr"], collection="hr")
    moved = assistant.ingest([docs / "hr" / "leave.md"], collection="people")
    assert (moved.added, moved.updated, moved.unchanged) == (0, 1, 0)
    question = "How many weeks of paid parental leave do parents get?"
    answer = assistant.ask(question, collections=["people"])
    assert {Path(c.source).name for c in answer.citations} == {"leave.md"}
    assert assistant.ask(question, collections=["hr"]).refused
    # An ingest that names no collection leaves every document where it is.
    again = assistant.ingest([docs / "hr"])
    assert again.unchanged == 2
    assert {c.name for c in assistant.collections()} == {"hr", "people"}


def test_folders_mapped_in_the_settings_choose_the_collection(docs: Path, tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path / "index", collection_folders={str(docs / "hr"): "hr", str(docs): "general"}
    )
    assistant = Assistant(settings)
    assistant.ingest([docs])
    found = {c.name: c.documents for c in assistant.collections()}
    assert found == {"general": 3, "hr": 2}  # the deepest mapped folder wins
    with pytest.raises(ValueError, match="bad collection name"):
        make_settings(tmp_path / "x", collection_folders={str(docs): "Not OK!"})


def test_names_are_checked_and_unknown_collections_named() -> None:
    assert restrict(None, ["a"]) is None
    assert restrict(["b", "a", "b"], ["a", "b"]) == ("b", "a")
    with pytest.raises(CollectionError, match="unknown collection 'c' \\(known: a, b\\)"):
        restrict(["c"], ["b", "a"])
    with pytest.raises(CollectionError, match="at least one collection"):
        restrict([], ["a"])
    with pytest.raises(CollectionError, match="bad collection name"):
        restrict(["../etc"], ["a"])
    assert collection_for(Path("/x/y.md"), {}, None, None) == "default"
    assert collection_for(Path("/x/y.md"), {}, None, "kept") == "kept"
    assert collection_for(Path("/x/y.md"), {Path("/x"): "mapped"}, None, "kept") == "mapped"
    assert collection_for(Path("/x/y.md"), {Path("/x"): "mapped"}, "chosen", "kept") == "chosen"


def test_an_index_from_before_collections_is_upgraded_in_place(docs: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    assistant = Assistant(make_settings(index))
    assistant.ingest([docs / "eng"])
    assistant.close()
    # Make it look like an earlier release wrote it: no collection column, untagged vectors.
    with sqlite3.connect(index / "catalog.sqlite3") as db:
        db.execute("DROP INDEX documents_by_collection")
        db.execute("ALTER TABLE documents DROP COLUMN collection")
        db.execute("DELETE FROM meta WHERE key = ?", (VECTOR_COLLECTIONS,))
    old = Assistant(make_settings(index))
    ids = [i for r in old.documents() for i in old.catalog.vector_ids(r.doc_id)]
    old.store.collection.update(ids=ids, metadatas=[{"doc_id": "x"}] * len(ids))
    reopened = Assistant(make_settings(index))
    assert {c.name for c in reopened.collections()} == {"default"}
    question = "When are deployments frozen?"
    # Until the next ingest tags the vectors, restricted searches filter by document instead.
    dense = reopened.retriever._dense(reopened.embedder.embed_query(question), ("default",))
    assert dense == []  # the vectors now name a document that is not in `default`
    reopened.ingest([docs / "eng"])
    assert SqliteCatalog(index / "catalog.sqlite3").get_meta(VECTOR_COLLECTIONS) == "1"
    assert "Fridays" in reopened.ask(question, collections=["default"]).text


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    placement=st.lists(st.sampled_from(["a", "b", "c"]), min_size=5, max_size=5),
    asked=st.sets(st.sampled_from(["a", "b", "c"]), min_size=1),
    question=st.sampled_from(QUESTIONS),
)
def test_no_citation_ever_names_a_document_outside_the_asked_collections(
    team_for_property: tuple[Assistant, Path],
    placement: list[str],
    asked: set[str],
    question: str,
) -> None:
    assistant, docs = team_for_property
    for name, collection in zip(DOCS, placement, strict=True):
        assistant.ingest([docs / name], collection=collection)  # re-tags, no re-embedding
    placed = {str((docs / name).resolve()): c for name, c in zip(DOCS, placement, strict=True)}
    present = sorted(set(placement) & asked)
    if not present:
        with pytest.raises(CollectionError, match="unknown collection"):
            assistant.ask(question, collections=sorted(asked))
        return
    answer = assistant.ask(question, collections=present)
    retrieval = assistant.retrieve(question, 10, collections=present)
    assert all(placed[str(Path(p.source).resolve())] in asked for p in retrieval.passages)
    assert all(placed[str(Path(c.source).resolve())] in asked for c in answer.citations)


@pytest.fixture(scope="module")
def team_for_property(tmp_path_factory: pytest.TempPathFactory) -> tuple[Assistant, Path]:
    docs = write_docs(tmp_path_factory.mktemp("property-docs"))
    assistant = Assistant(make_settings(tmp_path_factory.mktemp("property-index")))
    assistant.ingest([docs])
    return assistant, docs


def test_the_command_line_ingests_lists_and_restricts(docs: Path, tmp_path: Path) -> None:
    index = str(tmp_path / "index")
    ingest = run_cli("ingest", str(docs / "hr"), "--index", index, "--collection", "hr")
    assert ingest.returncode == 0, ingest.stderr
    listed = run_cli("collections", "--index", index, "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == [
        {"name": "hr", "documents": 2, "passages": 2, "grants": []}
    ]
    refused = run_cli("ask", SALARY, "--index", index, "--collection", "sales")
    assert refused.returncode == 2
    assert refused.stderr.strip().endswith("unknown collection 'sales' (known: hr)")
    bad = run_cli("ingest", str(docs / "eng"), "--index", index, "--collection", "Eng Team")
    assert bad.returncode == 2
    assert "bad collection name 'Eng Team'" in bad.stderr
    # `assistant eval --collection`: every golden question asked within those collections.
    assert run_cli("ingest", str(docs / "eng"), "--index", index).returncode == 0
    golden = tmp_path / "golden.jsonl"
    item = {"id": "deploy", "question": "How do I deploy billing?", "must_contain_any": ["make"]}
    golden.write_text(json.dumps(item) + "\n", "utf-8")
    results = {}
    for collection in ("default", "hr"):
        report = tmp_path / f"report-{collection}"
        run = run_cli(
            "eval", str(golden), "--index", index, "--collection", collection,
            "--report", str(report),
        )  # fmt: skip
        results[collection] = json.loads((report / "result.json").read_text("utf-8"))
        assert results[collection]["meta"]["collections"] == [collection], run.stderr
    assert results["default"]["metrics"]["accuracy"] == 1.0
    assert results["hr"]["metrics"]["accuracy"] == 0.0
    assert "make deploy" not in json.dumps(results["hr"])
    unknown = run_cli("eval", str(golden), "--index", index, "--collection", "sales")
    assert unknown.returncode == 2
    assert "unknown collection 'sales'" in unknown.stderr


def test_restricted_term_counts_follow_a_document_that_moves(tmp_path: Path) -> None:
    """The allowed rows are cached per index state: a move is seen by the next question."""
    docs = write_docs(tmp_path / "docs")
    assistant = Assistant(make_settings(tmp_path / "index"))
    assistant.ingest([docs / "hr"], collection="hr")
    assistant.ingest([docs / "legal"], collection="legal")
    catalog = assistant.catalog
    assert catalog.term_counts(["bonus"], ["hr"]) == {"bonus": 1}
    assert catalog.term_counts(["bonus"], ["legal"]) == {"bonus": 0}
    assistant.ingest([docs / "hr" / "salaries.md"], collection="legal")
    assert catalog.term_counts(["bonus"], ["hr"]) == {"bonus": 0}
    assert catalog.term_counts(["bonus"], ["legal"]) == {"bonus": 1}
    assert catalog.term_counts(["bonus"], ["hr", "legal"]) == {"bonus": 1}


def test_the_overfetched_dense_search_finds_what_the_filtered_one_finds(tmp_path: Path) -> None:
    """A restricted dense search from one unfiltered search of more candidates returns the same
    nearest allowed vectors as Chroma's filtered search, or defers to it when it cannot."""
    topics = ["invoices", "holidays", "laptops", "parking", "travel", "security", "payroll",
              "printers", "badges", "meetings"]  # fmt: skip
    for team in ("north", "south"):
        for number in range(40):
            topic = topics[number % len(topics)]
            path = tmp_path / team / f"{topic}-{number}.md"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"# {topic} note {number}\n\nThe {team} office rule {number} on "
                            f"{topic}: ask the {team} desk before day {number}.\n")  # fmt: skip
    small = tmp_path / "small" / "kitchen.md"
    small.parent.mkdir()
    small.write_text("# Kitchen\n\nThe kitchen closes at six.\n")
    assistant = Assistant(make_settings(tmp_path / "index"))
    for team in ("north", "south", "small"):
        assistant.ingest([tmp_path / team], collection=team)
    retriever = assistant.retriever
    for question in ("Who approves travel?", "When does parking close?", "printer rules"):
        vector = assistant.embedder.embed_query(question)
        for allowed in (["north"], ["south"], ["north", "small"]):
            fast = retriever._dense_overfetched(vector, allowed)
            filtered = assistant.store.query(vector, retriever.candidates, in_collections(allowed))
            assert fast is not None
            assert [hit for hit, _ in fast] == [hit for hit, _ in filtered]
        assert retriever._dense_overfetched(vector, ["small"]) is None  # 1 of 81: filtered


def test_a_document_moved_out_while_a_question_runs_is_not_returned(
    docs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ranked lists are built from what the collections held; the passages' rows are read
    with the restriction checked again, in the same statement: a document moved out between
    the two (here, just before the rows are read) is not returned."""
    assistant = Assistant(make_settings(tmp_path / "index"))
    assistant.ingest([docs / "hr"], collection="hr")
    salaries = next(r for r in assistant.documents() if r.source.endswith("salaries.md"))
    assert "salaries.md" in {
        Path(p.source).name for p in assistant.retrieve(SALARY, 5, collections=["hr"]).passages
    }
    read = assistant.catalog.chunks

    def moved_then_read(vector_ids, collections=None):  # type: ignore[no-untyped-def]
        assistant.catalog.set_collection(salaries.doc_id, "legal")
        return read(vector_ids, collections)

    monkeypatch.setattr(assistant.catalog, "chunks", moved_then_read)
    retrieval = assistant.retrieve(SALARY, 5, collections=["hr"])
    assert "salaries.md" not in {Path(p.source).name for p in retrieval.passages}
