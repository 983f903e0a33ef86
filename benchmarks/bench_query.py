"""Warm query latency by stage at about 1k, 10k, 100k and 1M chunks, with memory.

    python -m benchmarks.bench_query [--sizes 1000,10000,100000,1000000] [--queries 98] [--postgres]
    python -m benchmarks.bench_query --tiny --out DIR   # seeds/ at 3 and 20 chunks: seconds

The real corpus (the Python docs pages) is ingested once (~2.3k chunks). Larger indexes are
synthetic: the real documents copied under new names until the size is reached, each copy's
chunk vectors the real ones plus Gaussian noise (cosine ~0.9 to the original, so the vector
index holds distinct points), its texts, sentence vectors and BM25 terms those of the original.
Each index is then opened and measured in a fresh process, as a server that did not build it
(`--measure INDEX_DIR`): its memory is what serving that index takes, not the build's leftovers.
It is measured twice: the first pass after the build reads the index into the page cache (its
total is kept as `first_pass_total_ms`), the second, reported, is a replica that has been serving.
The 98 golden questions are asked with the extractive answerer, after 10 warm-up questions; the
floor is one query embedding plus the vector search, measured alone in the same process.
With `--postgres`, each index's catalog is also copied into a PostgreSQL database (Debian's
postgresql-15, started for the run; `assistant catalog-copy`'s code) and measured the same way
against the same vectors: `postgres_p95_ratio` is its p95 over the embedded catalog's.
Writes benchmarks/results/query.json (or DIR/query.json with --out). `--tiny` runs the same
steps on seeds/ and its golden questions, to check that the benchmark still works.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from assistant import Assistant, Settings
from assistant.evaluation.golden import load_golden
from benchmarks.common import (
    PYDOCS_GOLDEN,
    RESULTS,
    SEED_GOLDEN,
    current_rss_mb,
    pydocs_files,
    save,
    scratch_dir,
    seed_files,
    stopwatch,
    summary_ms,
)

if TYPE_CHECKING:
    from tests.pg_server import Postgres

STAGES = ("embed", "dense", "sentences", "lexical", "fuse", "answer", "total")
NOISE = 0.025  # per-dimension sigma of the synthetic copies' vectors


def settings_for(index_dir: Path) -> Settings:
    """Benchmark settings: the defaults, on `index_dir`."""
    return Settings.model_validate({"index_dir": index_dir, "data_dir": index_dir / "data"})


def build_real(index_dir: Path, files: list[Path]) -> Assistant:
    """Ingest the real corpus."""
    assistant = Assistant(settings_for(index_dir))
    report = assistant.ingest(files)
    assert not report.failed, report.failed
    return assistant


def build_scaled(real: Assistant, index_dir: Path, size: int, seed: int = 0) -> Assistant:
    """An index of about `size` chunks made of noisy copies of the real documents."""
    import shutil

    shutil.copytree(real.settings.index_dir, index_dir)
    assistant = Assistant(settings_for(index_dir))
    db = sqlite3.connect(index_dir / "catalog.sqlite3", isolation_level=None)
    documents = db.execute("SELECT * FROM documents").fetchall()
    per_copy = {row[0]: db.execute("SELECT * FROM chunks WHERE doc_id = ?", (row[0],)).fetchall()
                for row in documents}  # fmt: skip
    terms = dict(db.execute("SELECT rowid, terms FROM chunk_terms").fetchall())
    real_ids = [row[1] for rows in per_copy.values() for row in rows]
    vectors = dict(zip(real_ids, _vectors(real, real_ids), strict=True))
    rng = np.random.default_rng(seed)
    count = sum(len(rows) for rows in per_copy.values())
    copy = 0
    while count < size:
        copy += 1
        db.execute("BEGIN")
        new_ids: list[str] = []
        new_vectors: list[np.ndarray] = []
        new_docs: list[str] = []
        for document in documents:
            if count >= size:
                break
            doc_id = f"{document[0][:12]}c{copy}"
            db.execute(
                f"INSERT INTO documents VALUES ({', '.join('?' * len(document))})",
                (doc_id, f"/synthetic/{copy}{document[1]}", f"synthetic/{copy}/{document[2]}",
                 *document[3:]),
            )  # fmt: skip
            for row in per_copy[document[0]]:
                chunk_id = f"{doc_id}:{row[1].split(':', 1)[1]}"
                cursor = db.execute(
                    "INSERT INTO chunks (chunk_id, doc_id, ordinal, start, end, sentence_spans, "
                    "sentence_vectors, context_vectors) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (chunk_id, doc_id, *row[3:]),
                )
                db.execute(
                    "INSERT INTO chunk_terms (rowid, terms) VALUES (?, ?)",
                    (cursor.lastrowid, terms[row[0]]),
                )
                noisy = vectors[row[1]] + rng.normal(0, NOISE, vectors[row[1]].shape)
                new_ids.append(chunk_id)
                new_vectors.append((noisy / np.linalg.norm(noisy)).astype(np.float32))
                new_docs.append(doc_id)
                count += 1
        db.execute("COMMIT")
        assistant.store.add(new_ids, np.stack(new_vectors), new_docs)
    db.close()
    scaled = Assistant(settings_for(index_dir))
    scaled.catalog.optimize()  # as an ingest ends: the terms' chunk counts of the copies
    return scaled


def _vectors(assistant: Assistant, ids: list[str]) -> list[np.ndarray]:
    found: dict[str, np.ndarray] = {}
    for begin in range(0, len(ids), 1000):
        batch = assistant.store.collection.get(
            ids=ids[begin : begin + 1000], include=["embeddings"]
        )
        found.update(zip(batch["ids"], np.asarray(batch["embeddings"]), strict=True))
    return [found[i] for i in ids]


def measure(assistant: Assistant, questions: list[str]) -> dict[str, object]:
    """Per-stage latency of asking every question once (after a warm-up), and memory."""
    for question in questions[:10]:
        assistant.ask(question)
    timings: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for question in questions:
        answer = assistant.ask(question)
        for stage in STAGES:
            timings[stage].append(answer.timings_ms.get(stage, 0.0))
    floor = []
    for question in questions:
        with stopwatch() as elapsed:
            vector = assistant.embedder.embed_query(question)
            assistant.store.query(vector, assistant.settings.candidates)
        floor.append(elapsed() * 1000)
    return {
        "chunks": assistant.catalog.chunk_count(),
        "stages_ms": {stage: summary_ms(values) for stage, values in timings.items()},
        "floor_ms": summary_ms(floor),
        "rss_mb": round(current_rss_mb(), 1),
    }


def measure_apart(
    index_dir: Path, queries: int, tiny: bool, catalog_url: str | None = None
) -> dict[str, object]:
    """`measure` in a fresh process that only opens the index and asks (a serving replica);
    with `catalog_url`, its catalog read from PostgreSQL instead of the index's file."""
    command = [sys.executable, "-m", "benchmarks.bench_query", "--measure", str(index_dir)]
    command += ["--queries", str(queries), *(["--tiny"] if tiny else [])]
    env = {**os.environ, "ASSISTANT_BENCH_CATALOG_URL": catalog_url or ""}
    done = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Build each size, measure it, print and save the results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", help="chunk counts (default 1000,10000,100000,1000000)")
    parser.add_argument("--queries", type=int, default=98)
    parser.add_argument("--tiny", action="store_true", help="seeds/ at 3 and 20 chunks")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where query.json goes")
    parser.add_argument(
        "--measure", type=Path, metavar="INDEX_DIR", help="only measure this built index (JSON)"
    )
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="also measure each size with its catalog copied into PostgreSQL (Debian's "
        "postgresql-15, started for the run)",
    )
    args = parser.parse_args(argv)
    golden = load_golden(SEED_GOLDEN if args.tiny else PYDOCS_GOLDEN)
    questions = [item.question for item in golden][: args.queries]
    if args.measure:
        settings = settings_for(args.measure)
        url = os.environ.get("ASSISTANT_BENCH_CATALOG_URL")  # not argv: it holds a password
        if url:
            settings = settings.with_overrides(catalog_url=url)
        print(json.dumps(measure(Assistant(settings), questions)))
        return 0
    default_sizes = "3,20" if args.tiny else "1000,10000,100000,1000000"
    sizes = [int(size) for size in (args.sizes or default_sizes).split(",")]
    files = seed_files() if args.tiny else pydocs_files()
    workdir = scratch_dir("bench-query-")
    with stopwatch() as elapsed:
        real = build_real(workdir / "real", files)
    print(f"real corpus: {real.catalog.chunk_count()} chunks in {elapsed():.0f} s")
    results = []
    postgres = None
    if args.postgres:
        from tests.pg_server import start_postgres

        postgres = start_postgres()
    for size in sizes:
        with stopwatch() as elapsed:
            if size <= real.catalog.chunk_count():
                assistant = _subset(real, workdir / f"n{size}", size, files)
            else:
                assistant = build_scaled(real, workdir / f"n{size}", size)
        built = elapsed()
        assistant.close()
        # Twice, each in a fresh process: the first pass right after the build reads the
        # index from disk into the page cache; the second is a replica that has been serving.
        first = measure_apart(workdir / f"n{size}", args.queries, args.tiny)
        measured = measure_apart(workdir / f"n{size}", args.queries, args.tiny)
        result = {
            "target": size,
            "build_s": round(built, 1),
            **measured,
            "first_pass_total_ms": first["stages_ms"]["total"],  # type: ignore[index]
        }
        if postgres is not None:
            result["postgres"] = measure_in_postgres(postgres, workdir / f"n{size}", args)
            ratio = _p95(result["postgres"]) / _p95(measured)
            result["postgres_p95_ratio"] = round(ratio, 2)
        results.append(result)
        stages = result["stages_ms"]
        print(json.dumps({"chunks": result["chunks"], "total": stages["total"],  # type: ignore[index]
                          "floor": result["floor_ms"], "rss_mb": result["rss_mb"]}))  # fmt: skip
    if postgres is not None:
        from tests.pg_server import remove_postgres

        remove_postgres(postgres)
    save("query", {"sizes": results, "targets_at_10k_ms": {"p50": 40, "p95": 80}}, args.out)
    return 0


def measure_in_postgres(postgres: Postgres, index_dir: Path, args: argparse.Namespace) -> object:
    """The index's catalog copied into a new PostgreSQL database, measured as `measure_apart`
    (same vectors, same questions)."""
    from assistant.catalog import copy_catalog
    from assistant.catalog_pg import PostgresCatalog
    from assistant.catalog_sqlite import SqliteCatalog

    url = postgres.create_database(index_dir.name)
    source, target = SqliteCatalog(index_dir / "catalog.sqlite3"), PostgresCatalog(url)
    copy_catalog(source, target)
    source.close()
    target.close()
    return measure_apart(index_dir, args.queries, args.tiny, url)


def _p95(measured: object) -> float:
    stages = measured["stages_ms"]  # type: ignore[index]
    return float(stages["total"]["p95"])


def _subset(real: Assistant, index_dir: Path, size: int, files: list[Path]) -> Assistant:
    """A real index of the first documents holding about `size` chunks."""
    assistant = Assistant(settings_for(index_dir))
    chosen: list[Path] = []
    total = 0
    records = real.catalog.documents()
    for path in files:
        record = records[str(path)]
        if total >= size:
            break
        chosen.append(path)
        total += record.chunks
    assistant.ingest(chosen)
    return assistant


if __name__ == "__main__":
    raise SystemExit(main())
