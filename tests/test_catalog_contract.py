"""One contract for both catalogs: the embedded SQLite file and the PostgreSQL database.

Every test of `catalog` runs against each (a fresh file, a fresh database of the session's
PostgreSQL); the lexical tests index the same real documents into both and require the same
rankings, scores and counts for every golden question."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psycopg
import pytest

from assistant import catalog_pg_reads, lexical_pg
from assistant.catalog import Catalog, ChunkWrite, copy_catalog
from assistant.catalog_pg import PostgresCatalog
from assistant.catalog_rows import structure_from
from assistant.catalog_sqlite import SqliteCatalog
from assistant.chunking import Chunker
from assistant.embedding import Embedder
from assistant.errors import IndexBusyError, UsageError
from assistant.evaluation.golden import load_golden
from assistant.loaders import load_document
from assistant.pgschema import SCHEMA, migrate
from assistant.text import content_terms, sentence_spans
from assistant.types import Chunk, Document, Heading
from tests.conftest import GOLDEN, REPO, SEEDS, make_settings
from tests.pg_server import Postgres

_databases = itertools.count()


@dataclass(frozen=True)
class Place:
    """Where a catalog lives; `open` makes another instance on it (another process's view)."""

    kind: str
    open: Callable[[], Catalog]


def sqlite_place(tmp_path: Path) -> Place:
    return Place("sqlite", lambda: SqliteCatalog(tmp_path / "catalog.sqlite3"))


def postgres_place(postgres: Postgres) -> Place:
    url = postgres.create_database(f"contract_{next(_databases)}")
    return Place("postgres", lambda: PostgresCatalog(url))


@pytest.fixture(params=["sqlite", "postgres"])
def place(request: pytest.FixtureRequest, tmp_path: Path) -> Place:
    """Each implementation's catalog place, empty."""
    if request.param == "sqlite":
        return sqlite_place(tmp_path)
    return postgres_place(request.getfixturevalue("postgres"))


@pytest.fixture
def catalog(place: Place) -> Iterator[Catalog]:
    opened = place.open()
    yield opened
    opened.close()


def vectors(seed: str, rows: int, width: int = 8) -> np.ndarray:
    """Deterministic float16 rows (any bit pattern a model could give, NaN excepted)."""
    rng = np.random.default_rng(int(hashlib.sha256(seed.encode()).hexdigest()[:8], 16))
    return rng.standard_normal((rows, width)).astype(np.float16)


def writes_for(
    doc_id: str, document: Document, chunks: Sequence[Chunk], tag: str = ""
) -> list[ChunkWrite]:
    """What an ingest writes for these chunks: spans of their sentences, vectors of them."""
    writes = []
    for chunk in chunks:
        spans = sentence_spans(document.text, chunk.start, chunk.end) or [(chunk.start, chunk.end)]
        vector_id = f"{doc_id}:{tag}{chunk.ordinal}"
        writes.append(
            ChunkWrite(
                chunk=chunk,
                vector_id=vector_id,
                sentence_spans=spans,
                sentence_vectors=vectors(vector_id, len(spans)),
                context_vectors=vectors(vector_id + "/context", len(spans)),
            )
        )
    return writes


def small_document(name: str, text: str) -> Document:
    """A document with two sections, split into chunks at blank lines."""
    return Document(
        source=f"{name}.md",
        title=name.title(),
        text=text,
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
        format="markdown",
        size=len(text),
        headings=(Heading(0, f"{name} intro", "h1"), Heading(len(text) // 2, "Details", "h2")),
        page_starts=(0,),
    )


def paragraph_chunks(doc_id: str, text: str) -> list[Chunk]:
    chunks, start = [], 0
    for ordinal, part in enumerate(text.split("\n\n")):
        chunks.append(Chunk(doc_id, ordinal, start, start + len(part), part))
        start += len(part) + 2
    return chunks


def commit(
    catalog: Catalog, name: str, text: str, collection: str = "default", tag: str = ""
) -> list[ChunkWrite]:
    """Commit a small document `name` (doc id = name) and return what was written."""
    document = small_document(name, text)
    writes = writes_for(name, document, paragraph_chunks(name, text), tag)
    catalog.begin_document(name, [write.vector_id for write in writes])
    catalog.commit_document(name, f"/docs/{name}.md", document, writes, collection)
    return writes


ALPHA = "The alpha reactor vents steam.\n\nCooling pumps keep the alpha core cold.\n\nNo more."
BETA = "Beta manuals describe pumps.\n\nThe beta valve opens twice a day."


def test_documents_and_collections(catalog: Catalog) -> None:
    assert catalog.generation() == 0
    assert catalog.documents() == {}
    commit(catalog, "alpha", ALPHA)
    commit(catalog, "beta", BETA, collection="manuals")
    assert catalog.generation() == 2
    assert catalog.exists()
    records = catalog.documents()
    assert list(records) == ["/docs/alpha.md", "/docs/beta.md"]
    alpha = records["/docs/alpha.md"]
    assert (alpha.doc_id, alpha.source, alpha.title, alpha.format, alpha.chunks) == (
        "alpha",
        "alpha.md",
        "Alpha",
        "markdown",
        3,
    )
    assert alpha.size == len(ALPHA)
    assert alpha.collection == "default"
    assert catalog.document("beta") == records["/docs/beta.md"]
    assert catalog.document("gamma") is None
    text, headings, pages = catalog.document_structure("alpha")
    assert text == ALPHA
    assert headings == (Heading(0, "alpha intro", "h1"), Heading(len(ALPHA) // 2, "Details", "h2"))
    assert pages == (0,)
    with pytest.raises(KeyError):
        catalog.document_structure("gamma")
    assert sorted(catalog.vector_ids("alpha")) == ["alpha:0", "alpha:1", "alpha:2"]
    assert catalog.chunk_count() == 5
    assert catalog.chunk_count(["manuals"]) == 2
    assert catalog.chunk_count(["nothing"]) == 0
    assert catalog.collections() == {"default": (1, 3), "manuals": (1, 2)}
    assert catalog.collection_names() == ["default", "manuals"]
    assert catalog.doc_ids(["manuals"]) == ["beta"]
    assert catalog.chunk_ids_of(["manuals", "default"]) == {
        "alpha:0",
        "alpha:1",
        "alpha:2",
        "beta:0",
        "beta:1",
    }
    # Rows read for a restricted question: only the allowed collections', in the same read.
    ids = ["alpha:0", "beta:0", "beta:1"]
    assert set(catalog.chunks(ids, ["manuals"])) == {"beta:0", "beta:1"}
    assert set(catalog.chunks(ids, ["default", "manuals"])) == set(ids)
    assert catalog.chunks(ids, []) == {}
    catalog.set_collection("alpha", "manuals")
    assert set(catalog.chunks(ids, ["default"])) == set()
    assert catalog.generation() == 3
    assert catalog.collections() == {"manuals": (2, 5)}
    assert catalog.collection_names() == ["manuals"]
    assert catalog.chunk_ids_of(["default"]) == frozenset()


def test_a_defined_terms_end_is_stored_with_it(catalog: Catalog) -> None:
    headings = (
        Heading(0, "Controls", "heading"),
        Heading(ALPHA.index("Cooling"), "pumps", "term", ALPHA.index("No more")),
    )
    document = dataclasses.replace(small_document("alpha", ALPHA), headings=headings)
    writes = writes_for("alpha", document, paragraph_chunks("alpha", ALPHA))
    catalog.begin_document("alpha", [write.vector_id for write in writes])
    catalog.commit_document("alpha", "/docs/alpha.md", document, writes, "default")
    assert catalog.document_structure("alpha")[1] == headings


def test_headings_stored_before_terms_had_an_end_still_read() -> None:
    # An index written by an older version keeps (offset, title, kind) rows until it is
    # re-extracted; reading its documents must not fail meanwhile.
    stored = '[[0, "A", "heading"], [2, "b", "term"]]'
    assert structure_from("A\nb", stored, "[]")[1] == (
        Heading(0, "A", "heading"),
        Heading(2, "b", "term", None),
    )


def test_chunks_round_trip_with_offsets_and_bit_exact_vectors(catalog: Catalog) -> None:
    writes = commit(catalog, "alpha", ALPHA)
    rows = catalog.chunks([w.vector_id for w in writes] + ["alpha:missing"])
    assert set(rows) == {w.vector_id for w in writes}
    for write in writes:
        row = rows[write.vector_id]
        chunk = write.chunk
        assert (row.doc_id, row.source, row.title) == ("alpha", "alpha.md", "Alpha")
        assert (row.start, row.end, row.text) == (chunk.start, chunk.end, chunk.text)
        assert row.text == ALPHA[row.start : row.end]
        assert row.sentence_spans == tuple(tuple(span) for span in write.sentence_spans)
        assert row.sentence_vectors.dtype == np.float16
        assert row.sentence_vectors.tobytes() == write.sentence_vectors.tobytes()
        assert row.context_vectors is not None
        assert row.context_vectors.tobytes() == write.context_vectors.tobytes()
        assert row.headings[1].title == "Details"
        assert row.page_starts == (0,)
    assert catalog.chunks([]) == {}


def test_a_new_version_replaces_the_old_and_queues_its_vectors_as_garbage(catalog: Catalog) -> None:
    old = commit(catalog, "alpha", ALPHA)
    new = commit(catalog, "alpha", ALPHA + "\n\nA fourth paragraph.", tag="v2-")
    assert catalog.vector_ids("alpha")
    assert set(catalog.vector_ids("alpha")) == {w.vector_id for w in new}
    assert sorted(catalog.garbage()) == sorted(w.vector_id for w in old)
    assert catalog.chunks([w.vector_id for w in old]) == {}
    assert catalog.document_structure("alpha")[0].endswith("A fourth paragraph.")
    catalog.clear_garbage([old[0].vector_id])
    assert sorted(catalog.garbage()) == sorted(w.vector_id for w in old[1:])
    # A garbage id that a committed chunk uses again is not garbage.
    commit(catalog, "alpha", ALPHA)
    assert set(catalog.garbage()) == {w.vector_id for w in new}


def test_rename_keeps_chunks_and_lexical_rows(catalog: Catalog) -> None:
    writes = commit(catalog, "alpha", ALPHA)
    commit(catalog, "target", BETA)  # already at the new path: replaced
    before = catalog.lexical_search(["reactor"], 5)
    mapping = {w.vector_id: w.vector_id.replace("alpha:", "target:m") for w in writes}
    catalog.begin_document("target", list(mapping.values()))
    generation = catalog.generation()
    catalog.rename_document("alpha", "target", "/docs/target.md", "target.md", "moved", mapping)
    assert catalog.generation() == generation + 1
    assert catalog.document("alpha") is None
    record = catalog.document("target")
    assert record is not None
    assert (record.path, record.source, record.collection) == (
        "/docs/target.md",
        "target.md",
        "moved",
    )
    assert sorted(catalog.vector_ids("target")) == sorted(mapping.values())
    assert catalog.pending() == {}
    assert set(catalog.garbage()) == set(mapping) | {"target:0", "target:1"}
    rows = catalog.chunks(list(mapping.values()))
    assert rows["target:m0"].text == writes[0].chunk.text
    after = catalog.lexical_search(["reactor"], 5)
    assert [mapping[i] for i, _ in before] == [i for i, _ in after] == ["target:m0"]
    assert catalog.term_counts(["beta", "reactor"]) == {"beta": 0, "reactor": 1}


def test_remove_document(catalog: Catalog) -> None:
    writes = commit(catalog, "alpha", ALPHA)
    commit(catalog, "beta", BETA)
    assert catalog.term_counts(["alpha", "pump"]) == {"alpha": 3, "pump": 2}  # kept ...
    catalog.remove_document("alpha")
    assert catalog.document("alpha") is None
    assert catalog.chunk_count() == 2
    assert sorted(catalog.garbage()) == sorted(w.vector_id for w in writes)
    assert catalog.lexical_search(["alpha"], 5) == []
    assert catalog.term_counts(["alpha", "pump"]) == {"alpha": 0, "pump": 1}  # ... not stale
    catalog.remove_document("never-there")  # nothing to do, still a change announced
    assert catalog.generation() == 4


def test_pending_journal(catalog: Catalog) -> None:
    catalog.begin_document("alpha", ["alpha:0", "alpha:1"])
    catalog.begin_document("beta", ["beta:0"])
    catalog.begin_document("beta", ["beta:0", "beta:1"])  # a retry replaces the entry
    assert catalog.pending() == {"alpha": ["alpha:0", "alpha:1"], "beta": ["beta:0", "beta:1"]}
    assert catalog.generation() == 0  # nothing is committed yet
    commit(catalog, "alpha", ALPHA)
    assert catalog.pending() == {"beta": ["beta:0", "beta:1"]}
    catalog.clear_pending("beta")
    assert catalog.pending() == {}


def test_meta(catalog: Catalog) -> None:
    assert catalog.get_meta("fingerprint") is None
    catalog.set_meta("fingerprint", "2|a")
    catalog.set_meta("fingerprint", "2|b")
    assert catalog.get_meta("fingerprint") == "2|b"
    catalog.delete_meta("fingerprint")
    catalog.delete_meta("fingerprint")
    assert catalog.get_meta("fingerprint") is None


def test_another_instance_sees_a_commit_at_once(place: Place) -> None:
    writer, reader = place.open(), place.open()
    try:
        assert reader.generation() == 0
        assert reader.chunk_count() == 0
        assert reader.term_counts(["pump", "valv"]) == {"pump": 0, "valv": 0}
        writes = commit(writer, "alpha", ALPHA)
        assert reader.generation() == writer.generation() == 1
        assert reader.chunk_count() == 3
        assert reader.term_counts(["pump"]) == writer.term_counts(["pump"]) == {"pump": 1}
        assert set(reader.chunks([w.vector_id for w in writes])) == {w.vector_id for w in writes}
        # A new version is read as such, not from what the reader read before.
        commit(writer, "alpha", BETA, tag="v2-")
        assert reader.generation() == 2
        assert [row.text for row in reader.chunks(["alpha:v2-1"]).values()] == [
            "The beta valve opens twice a day."
        ]
        assert reader.document_structure("alpha")[0] == BETA
        assert reader.lexical_search(["valv"], 5) == writer.lexical_search(["valv"], 5)
        assert len(reader.lexical_search(["valv"], 5)) == 1
        assert reader.term_counts(["pump", "valv"]) == {"pump": 1, "valv": 1}
    finally:
        writer.close()
        reader.close()


def test_reset(catalog: Catalog) -> None:
    commit(catalog, "alpha", ALPHA)
    catalog.begin_document("beta", ["beta:0"])
    catalog.set_meta("fingerprint", "kept")
    catalog.reset()
    assert catalog.documents() == {}
    assert catalog.chunk_count() == 0
    assert catalog.pending() == {}
    assert catalog.garbage() == []
    assert catalog.lexical_search(["alpha"], 5) == []
    assert catalog.term_counts(["alpha"]) == {"alpha": 0}
    assert catalog.generation() == 2
    assert catalog.get_meta("fingerprint") == "kept"
    commit(catalog, "alpha", ALPHA)
    assert catalog.chunk_count() == 3


def test_lexical_search_of_a_small_index(catalog: Catalog) -> None:
    commit(catalog, "alpha", ALPHA)
    commit(catalog, "beta", BETA, collection="manuals")
    hits = catalog.lexical_search(["pump", "alpha"], 10)
    # "alpha" (its title) is in 3 of the 5 chunks: FTS5's idf floor, 1e-6, counts it.
    assert [chunk_id for chunk_id, _ in hits] == ["beta:0", "alpha:1", "alpha:0", "alpha:2"]
    assert hits[2][1] < 1e-5
    assert all(a[1] >= b[1] > 0 for a, b in itertools.pairwise(hits))
    assert catalog.lexical_search(["pump", "alpha"], 1) == hits[:1]
    assert [i for i, _ in catalog.lexical_search(["pump", "alpha"], 10, ["manuals"])] == ["beta:0"]
    # Every term: the one chunk holding both, scored as the lookup of any term scores it.
    both = catalog.lexical_search(["pump", "alpha"], 10, every_term=True)
    assert both == [("alpha:1", dict(hits)["alpha:1"])]
    assert catalog.lexical_search(["pump", "alpha"], 10, ["manuals"], every_term=True) == []
    assert catalog.lexical_search(["pump", "zebra"], 10, every_term=True) == []
    assert catalog.lexical_search(["pump"], 10, []) == []
    assert catalog.lexical_search([], 10) == []
    assert catalog.term_counts(["pump", "alpha", "zebra"]) == {"pump": 2, "alpha": 3, "zebra": 0}
    assert catalog.term_counts(["pump", "alpha"], ["manuals"]) == {"pump": 1, "alpha": 0}
    idf = catalog.idf(["pump", "zebra"])
    assert idf["zebra"] > idf["pump"] > 0


# -- the same ranking from both ----------------------------------------------------------------
def real_documents() -> list[tuple[str, Document]]:
    """The seed document and this repository's docs: realistic technical English."""
    paths = sorted(SEEDS.glob("*.txt")) + sorted((REPO / "docs").glob("*.md"))
    return [(path.stem, load_document(path, path.name, 10_000_000)) for path in paths]


def golden_terms() -> list[list[str]]:
    """The content terms of every golden question (what the lexical leg is asked)."""
    questions = [
        item.question for path in sorted(GOLDEN.glob("*_qa.jsonl")) for item in load_golden(path)
    ]
    return [terms for terms in (content_terms(q) for q in questions) if terms]


@pytest.fixture(scope="module")
def both_indexed(
    tmp_path_factory: pytest.TempPathFactory, postgres: Postgres
) -> Iterator[tuple[Catalog, Catalog]]:
    """The same real documents (chunked as an ingest chunks them) in both catalogs, in two
    collections."""
    embedder = Embedder.from_settings(make_settings(tmp_path_factory.mktemp("index")))
    chunker = Chunker(200, 40, embedder.tokenize_ids)
    sqlite = sqlite_place(tmp_path_factory.mktemp("sqlite")).open()
    pg = postgres_place(postgres).open()
    for number, (doc_id, document) in enumerate(real_documents()):
        writes = writes_for(doc_id, document, chunker.chunk(doc_id, document.text))
        for catalog in (sqlite, pg):
            catalog.commit_document(
                doc_id, f"/docs/{doc_id}", document, writes, "odd" if number % 2 else "default"
            )
    # A removal and a replacement, so the row ids have gaps as they do after re-indexing.
    for catalog in (sqlite, pg):
        catalog.remove_document("security")
    yield sqlite, pg
    sqlite.close()
    pg.close()


def test_both_catalogs_rank_every_golden_question_alike(
    both_indexed: tuple[Catalog, Catalog],
) -> None:
    sqlite, pg = both_indexed
    questions = golden_terms()
    assert len(questions) > 300
    assert sqlite.chunk_count() == pg.chunk_count() > 300
    ranked = together = 0
    for terms in questions:
        for collections in (None, ["odd"]):
            expected = sqlite.lexical_search(terms, 10, collections)
            got = pg.lexical_search(terms, 10, collections)
            assert [i for i, _ in got] == [i for i, _ in expected], terms
            # The same doubles: FTS5's arithmetic in FTS5's order.
            assert [s for _, s in got] == [s for _, s in expected], terms
            assert pg.term_counts(terms, collections) == sqlite.term_counts(terms, collections)
            ranked += bool(expected)
            # The lookup of a large index whose terms are all common: chunks holding the two
            # rarest together (retrieval.lexical_lookup).
            counts = sqlite.term_counts(terms, collections)
            rarest = sorted((t for t in terms if counts[t]), key=lambda t: (counts[t], t))[:2]
            expected = sqlite.lexical_search(rarest, 10, collections, every_term=True)
            got = pg.lexical_search(rarest, 10, collections, every_term=True)
            assert got == expected, rarest
            together += bool(expected)
        assert pg.idf(terms) == sqlite.idf(terms)
    assert ranked > 500
    assert together > 200


def test_ties_and_folded_words_rank_alike(tmp_path: Path, postgres: Postgres) -> None:
    # Equal scores (the same paragraph twice) and words FTS5 folds (case, diacritics).
    text = "Café naïve résumé.\n\nCafé naïve résumé.\n\nA cafe, naive resume.\n\nOther words."
    catalogs = [sqlite_place(tmp_path).open(), postgres_place(postgres).open()]
    for catalog in catalogs:  # titles "C" and "B": one term each
        commit(catalog, "c", text)
        commit(catalog, "b", text)
    results = [
        (c.lexical_search(["café", "resume"], 10), c.term_counts(["café", "cafe"]))
        for c in catalogs
    ]
    assert results[0] == results[1]
    # Every paragraph holds both terms, written with diacritics or without (folded before
    # stemming: "résumé" is "resum" as "resume" is). The third ones stand under the shorter
    # heading ("Details", not "C intro"); equal scores come in the order stored.
    ranked = results[0][0]
    assert [i for i, _ in ranked] == ["c:2", "b:2", "c:0", "c:1", "b:0", "b:1"]
    assert len({s for _, s in ranked[:2]}) == 1
    assert len({s for _, s in ranked[2:]}) == 1
    assert results[0][1] == {"café": 0, "cafe": 6}


# -- schema migrations -------------------------------------------------------------------------
def test_an_old_sqlite_catalog_is_migrated(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "catalog.sqlite3"
    with sqlite3.connect(path) as db:  # the schema before collections and context vectors
        db.execute(
            "CREATE TABLE documents (doc_id TEXT PRIMARY KEY, path TEXT NOT NULL UNIQUE, "
            "source TEXT NOT NULL, title TEXT NOT NULL, format TEXT NOT NULL, content_hash TEXT "
            "NOT NULL, size INTEGER NOT NULL, chunks INTEGER NOT NULL, ingested_at REAL NOT "
            "NULL, text TEXT NOT NULL, headings TEXT NOT NULL, page_starts TEXT NOT NULL)"
        )
        db.execute(
            "INSERT INTO documents VALUES ('d', '/d', 'd.txt', 'D', 'text', 'h', 1, 0, 0, 'x', "
            "'[]', '[]')"
        )
        db.execute(
            "CREATE TABLE chunks (id INTEGER PRIMARY KEY, chunk_id TEXT NOT NULL UNIQUE, doc_id "
            "TEXT NOT NULL, ordinal INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT "
            "NULL, sentence_spans BLOB NOT NULL, sentence_vectors BLOB NOT NULL)"
        )
    db.close()
    catalog = SqliteCatalog(path)
    assert catalog.collections() == {"default": (1, 0)}
    commit(catalog, "alpha", ALPHA)
    assert catalog.chunks(["alpha:0"])["alpha:0"].context_vectors is not None
    assert kept_and_vocabulary(catalog)[0] is True  # no chunks before: exact from the start
    catalog.close()


def kept_and_vocabulary(catalog: SqliteCatalog) -> tuple[bool, dict[str, int], dict[str, int]]:
    """Whether the kept term counts are marked exact, them, and FTS5's own count of each term."""
    db = catalog.db
    exact = db.execute("SELECT 1 FROM meta WHERE key = 'term_chunks'").fetchone() is not None
    kept = dict(db.execute("SELECT term, chunks FROM term_chunks").fetchall())
    vocabulary = dict(db.execute("SELECT term, doc FROM chunk_vocab").fetchall())
    return exact, kept, vocabulary


def writes_of_every_kind(catalog: Catalog) -> list[Callable[[], object]]:
    """Adds, a new version, a rename over another document, removals: each a step to check."""
    return [
        lambda: commit(catalog, "alpha", ALPHA),
        lambda: commit(catalog, "beta", BETA),
        lambda: commit(catalog, "alpha", ALPHA + "\n\nCafé pumps, Pumps again.", tag="v2"),
        lambda: catalog.rename_document(
            "beta", "alpha", "/d/a.md", "a.md", "default", {"beta:0": "a:0", "beta:1": "a:1"}
        ),
        lambda: commit(catalog, "beta", BETA),
        lambda: catalog.remove_document("alpha"),
        lambda: catalog.remove_document("never-there"),
    ]


def test_the_sqlite_catalog_keeps_every_terms_chunk_count_as_it_writes(tmp_path: Path) -> None:
    catalog = SqliteCatalog(tmp_path / "catalog.sqlite3")
    assert kept_and_vocabulary(catalog) == (True, {}, {})  # a new catalog: exact from the start
    for step in writes_of_every_kind(catalog):
        step()
        exact, kept, vocabulary = kept_and_vocabulary(catalog)
        assert exact
        assert kept == vocabulary
        assert catalog.term_counts(list(vocabulary)) == vocabulary
    assert kept["pump"] == 1
    assert "reactor" not in kept
    catalog.reset()
    assert kept_and_vocabulary(catalog) == (True, {}, {})
    catalog.close()


def test_chunks_written_around_the_sqlite_catalog_are_counted_from_fts5_until_optimize(
    tmp_path: Path,
) -> None:
    # A bulk load (benchmarks.bench_query's copies) or an older release adds chunks without
    # keeping the table: counts come from FTS5's vocabulary, then optimize fills the table.
    path = tmp_path / "catalog.sqlite3"
    writer = SqliteCatalog(path)
    commit(writer, "alpha", ALPHA)
    writer.db.execute(
        "INSERT INTO chunks (chunk_id, doc_id, ordinal, start, end, sentence_spans, "
        "sentence_vectors) VALUES ('alpha:9', 'alpha', 9, 0, 3, x'', x'')"
    )
    rowid = writer.db.execute("SELECT id FROM chunks WHERE chunk_id = 'alpha:9'").fetchone()[0]
    writer.db.execute(
        "INSERT INTO chunk_terms (rowid, terms) VALUES (?, 'alpha pump pump')", (rowid,)
    )
    reader = SqliteCatalog(path)  # another process
    exact, kept, vocabulary = kept_and_vocabulary(reader)
    assert not exact
    assert kept != vocabulary
    assert reader.term_counts(["alpha", "pump", "zebra"]) == {"alpha": 4, "pump": 2, "zebra": 0}
    commit(writer, "beta", BETA)  # a write while the table is stale leaves it stale
    assert kept_and_vocabulary(reader)[0] is False
    assert reader.term_counts(["pump"]) == {"pump": 3}
    writer.optimize()
    exact, kept, vocabulary = kept_and_vocabulary(reader)
    assert exact
    assert kept == vocabulary
    assert kept["pump"] == 3
    assert reader.term_counts(["alpha", "pump"]) == {"alpha": 4, "pump": 3}
    writer.remove_document("beta")  # kept by the write again
    assert reader.term_counts(["pump"]) == {"pump": 2}
    _, kept, vocabulary = kept_and_vocabulary(reader)
    assert kept == vocabulary
    reader.close()
    writer.close()


def test_the_postgres_catalog_keeps_every_terms_chunk_count_as_it_writes(
    postgres: Postgres,
) -> None:
    url = postgres.create_database(f"counts_{next(_databases)}")
    catalog = PostgresCatalog(url)

    def kept_and_postings() -> tuple[dict[str, int], dict[str, int]]:
        with psycopg.connect(url) as db:
            kept = dict(db.execute("SELECT term, chunks FROM term_chunks").fetchall())
            postings = db.execute("SELECT term, count(*) FROM postings GROUP BY term")
            return kept, dict(postings.fetchall())

    for step in writes_of_every_kind(catalog):
        step()
        kept, postings = kept_and_postings()
        assert kept == postings
        assert catalog.term_counts(list(postings)) == postings
    assert kept["pump"] == 1
    assert "reactor" not in kept
    catalog.reset()
    assert kept_and_postings() == ({}, {})
    catalog.close()


def test_a_postgres_catalog_is_made_migrated_and_refused_when_newer(postgres: Postgres) -> None:
    url = postgres.create_database(f"migrate_{next(_databases)}")
    with psycopg.connect(url, autocommit=True) as db:
        assert migrate(db, target=0) == 0  # only the version table: an empty catalog
        assert db.execute("SELECT version FROM schema_version").fetchall() == [(0,)]
    catalog = PostgresCatalog(url)
    commit(catalog, "alpha", ALPHA)  # opening migrates to the current schema
    catalog.close()
    with psycopg.connect(url, autocommit=True) as db:
        assert db.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA,)]
        assert migrate(db) == SCHEMA  # again: nothing to do, the data kept
        assert db.execute("SELECT count(*) FROM chunks").fetchall() == [(3,)]
        db.execute("UPDATE schema_version SET version = %s", (SCHEMA + 1,))
    with pytest.raises(UsageError, match="newer than this release"):
        PostgresCatalog(url).documents()


def test_postings_of_a_version_1_catalog_get_their_chunks_length(postgres: Postgres) -> None:
    url = postgres.create_database(f"migrate_{next(_databases)}")
    with psycopg.connect(url, autocommit=True) as db:
        migrate(db, target=1)  # the first schema: postings without the chunk's length
        db.execute(
            "INSERT INTO documents VALUES ('a', '/a', 'a.md', 'A', 'md', 'h', 1, 1, 1.0, "
            "'pump pump valve', '[]', '[]', 'default')"
        )
        db.execute(
            'INSERT INTO chunks (chunk_id, doc_id, ordinal, start, "end", sentence_spans, '
            "sentence_vectors, context_vectors, length) VALUES ('a:0', 'a', 0, 0, 15, '', '', "
            "'', 4)"
        )
        row = db.execute("SELECT id FROM chunks").fetchone()
        assert row is not None
        db.execute("INSERT INTO postings VALUES ('pump', %s, 2, '{0,1}')", (row[0],))
        db.execute("UPDATE lexical_totals SET chunks = 1, tokens = 4")
        assert migrate(db) == 1
        assert db.execute("SELECT length FROM postings").fetchall() == [(4,)]
        # Schema 3: the key carries what BM25 reads; autovacuum marks new postings sooner.
        (definition,) = db.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'postings_pkey'"
        ).fetchone() or ("",)
        assert definition.endswith("(term, row_id) INCLUDE (tf, length)"), definition
        # Schema 9: each term's chunk count, filled from the postings.
        assert db.execute("SELECT term, chunks FROM term_chunks").fetchall() == [("pump", 1)]
        (options,) = db.execute(
            "SELECT reloptions FROM pg_class WHERE relname = 'postings'"
        ).fetchone() or ([],)
        assert "autovacuum_vacuum_insert_scale_factor=0.02" in options
    catalog = PostgresCatalog(url)
    assert [chunk_id for chunk_id, _ in catalog.lexical_search(["pump"], 5)] == ["a:0"]
    catalog.close()


def test_one_writer_at_a_time_across_instances(place: Place) -> None:
    first, second = place.open(), place.open()  # two processes' views of one catalog
    commit(first, "alpha", ALPHA)
    assert not first.writer_busy()
    assert not second.writer_busy()
    with first.writer_lock(timeout=0):
        assert first.writer_busy()
        assert second.writer_busy()
        with (
            pytest.raises(IndexBusyError, match=r"^another ingest is writing to "),
            second.writer_lock(timeout=0),
        ):
            pytest.fail("two writers at once")
    assert not second.writer_busy()
    with second.writer_lock(timeout=0):  # released: the other takes it
        assert first.writer_busy()
    assert not first.writer_busy()
    first.close()
    second.close()


def test_bm25_reads_postings_from_the_index_alone_after_optimize(postgres: Postgres) -> None:
    url = postgres.create_database(f"migrate_{next(_databases)}")
    catalog = PostgresCatalog(url)
    for name, text in (("alpha", ALPHA), ("beta", BETA)):
        commit(catalog, name, text)
    catalog.optimize()  # what an ingest run or a copy does after its writes
    with psycopg.connect(url, autocommit=True) as db:
        # The planner would scan so small a table; forbid that, to see what the index offers.
        db.execute("SET enable_seqscan = off")
        db.execute("SET enable_bitmapscan = off")
        query = lexical_pg.phrases(db, ["pump", "valv"])
        counts = catalog.term_counts([token for token, _ in query.single])
        params = {
            **lexical_pg._hits_params(query),
            "counts": query.rows_holding(counts),
            "k1": 1.2,
            "k1_plus_1": 2.2,
            "b": 0.75,
            "collections": [],
            "limit": 5,
        }
        plan = "\n".join(
            str(row[0])
            for row in db.execute(
                "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) "
                + lexical_pg._ranking_query(query.count, restricted=False),
                params,
            )
        )
    assert "Index Only Scan using postings_pkey on postings" in plan, plan
    assert "Heap Fetches: 0" in plan, plan  # every page marked all-visible by the VACUUM
    # The valve's chunk (the rarer term) first, then the two that mention pumps.
    found = [chunk_id for chunk_id, _ in catalog.lexical_search(["pump", "valv"], 5)]
    assert found == ["beta:1", "beta:0", "alpha:1"]
    catalog.close()


def test_a_copy_answers_as_its_source(
    both_indexed: tuple[Catalog, Catalog], tmp_path: Path, postgres: Postgres
) -> None:
    sqlite, _ = both_indexed
    sqlite.set_meta("fingerprint", "f1")
    seen: list[tuple[int, int]] = []
    copies = [sqlite_place(tmp_path).open(), postgres_place(postgres).open()]
    for copy in copies:
        chunks = copy_catalog(sqlite, copy, lambda done, total: seen.append((done, total)))
        assert chunks == sqlite.chunk_count() == copy.chunk_count()
        assert copy.get_meta("fingerprint") == "f1"
        assert {p: (r.doc_id, r.content_hash, r.chunks, r.collection) for p, r in
                copy.documents().items()} == {
            p: (r.doc_id, r.content_hash, r.chunks, r.collection)
            for p, r in sqlite.documents().items()
        }  # fmt: skip
        ids = [i for r in sqlite.documents().values() for i in sqlite.vector_ids(r.doc_id)]
        source_rows, copied_rows = sqlite.chunks(ids), copy.chunks(ids)
        for chunk_id, row in source_rows.items():
            got = copied_rows[chunk_id]
            assert (got.start, got.end, got.text, got.sentence_spans) == (
                row.start, row.end, row.text, row.sentence_spans
            )  # fmt: skip
            assert np.array_equal(got.sentence_vectors, row.sentence_vectors)
        for terms in golden_terms()[::7]:
            assert copy.lexical_search(terms, 10) == sqlite.lexical_search(terms, 10), terms
            assert copy.term_counts(terms, ["odd"]) == sqlite.term_counts(terms, ["odd"])
    assert seen[-1][0] == seen[-1][1] == len(sqlite.documents())
    with pytest.raises(UsageError, match="empty"):
        copy_catalog(sqlite, copies[0])  # never into a catalog that holds documents
    for copy in copies:
        copy.close()


def test_sentence_rows_hold_every_committed_sentence_vector(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What sentence search reads: each committed chunk's vectors, bit-exact; a removed
    document's are gone, an uncommitted one's never there. (PostgreSQL reads pages of chunks:
    two a page here, so that the paging is crossed.)"""
    monkeypatch.setattr(catalog_pg_reads, "SENTENCE_PAGE", 2)
    assert catalog.sentence_count() == 0
    assert list(catalog.sentence_rows()) == []
    writes = commit(catalog, "alpha", ALPHA) + commit(catalog, "beta", BETA, "manuals")
    catalog.begin_document("gamma", ["gamma:0"])  # begun, never committed
    # The vectors embedded in context (the pooled ones only where an old index lacks them).
    assert dict(catalog.sentence_rows()) == {
        w.vector_id: w.context_vectors.tobytes() for w in writes
    }
    assert catalog.sentence_count() == sum(len(w.sentence_spans) for w in writes)
    catalog.remove_document("alpha")
    assert {row[0] for row in catalog.sentence_rows()} == {"beta:0", "beta:1"}
    assert catalog.sentence_count() == sum(
        len(w.sentence_spans) for w in writes if w.vector_id.startswith("beta")
    )
