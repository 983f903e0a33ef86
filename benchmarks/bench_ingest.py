"""Ingest throughput on the real corpus against the limit (the bare encoder) and a peer.

    python -m benchmarks.bench_ingest
    python -m benchmarks.bench_ingest --tiny --out DIR   # the same steps on seeds/: seconds
    python -m benchmarks.bench_ingest --int8-only        # float vs 8-bit encoder only
    python -m benchmarks.bench_ingest --threads 1,2      # the encoder on 1 and on 2 threads
    python -m benchmarks.bench_ingest --edit-only        # re-ingest after a one-word edit only

On the 53 pages of the Python docs listed in tests/golden/pydocs_corpus.txt (`--files N`: the
first N), in one process, models loaded first, `--rounds` rounds (default 3) of three steps,
interleaved (each round in another order):
1. `Assistant.ingest` into a fresh index: chunks/s (after the first, the same ingest again with
   nothing changed: the no-op re-ingest);
2. the limit: bare `SentenceTransformer.encode` of exactly the texts our ingest embeds;
3. the peer: llama-index's default pipeline, `VectorStoreIndex.from_documents` into Chroma with
   the same model (HuggingFaceEmbedding) and the same chunk sizes, from the same extracted
   texts (so it is spared the HTML parsing our timing includes).
Then the 8-bit encoder (`embedding_backend = "onnx-int8"`) against the float one on every 10th
of those inputs, interleaved for three rounds: median speed-up and how close the vectors stay
(`--int8-only` runs just this step).
Last, copies of the files are ingested, one word is changed in the middle of each, and they are
ingested again: the edit's share of the full ingest and how many passages kept their vectors
(`--edit-only` runs just this step).
Each step records wall time and this process's CPU time; ratios are of the medians, judged on
wall-clock time (CPU-time ratios are reported beside them).
Prints the ratios and writes benchmarks/results/ingest.json (or DIR/ingest.json with --out).
`--tiny` runs every step on seeds/ instead, to check that the benchmark still works.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
from collections.abc import Sequence
from pathlib import Path

from assistant import Assistant, Settings
from assistant.chunking import Chunker
from assistant.embed_inputs import embedding_inputs
from assistant.embedding_backends import _sentence_transformer
from assistant.loaders import load_document
from assistant.types import Document
from benchmarks.common import RESULTS, cpu_stopwatch, pydocs_files, save, scratch_dir, seed_files


def embedded_inputs(assistant: Assistant, documents: list[Document]) -> tuple[list[str], list[str]]:
    """Exactly what ingest embeds: each chunk's context prefix and text, and each distinct
    sentence in its context (a sentence of two overlapping chunks once)."""
    settings = assistant.settings
    chunker = Chunker(settings.chunk_size, settings.chunk_overlap, assistant.embedder.tokenize_ids)
    chunks: list[str] = []
    sentences: dict[str, None] = {}
    for document in documents:
        document_chunks = chunker.chunk(document.source, document.text)
        inputs = embedding_inputs(document, document_chunks)
        for chunk, one in zip(document_chunks, inputs, strict=True):
            chunks.append(one.prefix + chunk.text)
            sentences.update((text, None) for text in one.contexts if text is not None)
    return chunks, list(sentences)


def int8_rounds(inputs: list[str], rounds: int = 3) -> dict[str, float]:
    """The float and the 8-bit ONNX encoders on the same inputs, interleaved for `rounds`
    rounds in this process (models loaded first): median wall and CPU seconds, and ratios."""
    import statistics

    from assistant.embedding import Embedder

    encoders = {name: Embedder(backend=name) for name in ("onnx", "onnx-int8")}
    timings: dict[str, list[tuple[float, float]]] = {name: [] for name in encoders}
    vectors = {}
    for encoder in encoders.values():
        encoder.embed_texts(["load the model before timing"])
    for _ in range(rounds):
        for name, encoder in encoders.items():
            with cpu_stopwatch() as elapsed:
                vectors[name] = encoder.embed_texts(inputs)
            timings[name].append(elapsed())
    wall = {n: statistics.median(t[0] for t in times) for n, times in timings.items()}
    cpu = {n: statistics.median(t[1] for t in times) for n, times in timings.items()}
    cosines = (vectors["onnx"] * vectors["onnx-int8"]).sum(axis=1)
    return {
        "inputs": len(inputs),
        "rounds": rounds,
        "float_seconds": round(wall["onnx"], 2),
        "int8_seconds": round(wall["onnx-int8"], 2),
        "wall_speedup": round(wall["onnx"] / wall["onnx-int8"], 3),
        "cpu_speedup": round(cpu["onnx"] / cpu["onnx-int8"], 3),
        "cosine_mean": round(float(cosines.mean()), 4),
        "cosine_min": round(float(cosines.min()), 4),
    }


def edit_reingest(files: Sequence[Path], workdir: Path) -> dict[str, float]:
    """Copies of `files` ingested into a fresh index, then in each the first " the " from the
    middle on that the extracted text holds (not one in navigation the loader drops) changed to
    " a ", and ingested again: wall and CPU seconds of both, and how many passages the edited
    documents kept."""
    folder = workdir / "edit"
    copies = folder / "docs"
    copies.mkdir(parents=True)
    for number, path in enumerate(files):
        shutil.copy(path, copies / f"{number:03d}-{path.name}")
    assistant = Assistant(
        Settings.model_validate({"index_dir": folder / "index", "data_dir": folder / "data"})
    )
    assistant.embedder.embed_texts(["load the model before timing"])
    with cpu_stopwatch() as elapsed:
        first = assistant.ingest([copies])
    full = elapsed()
    for copy in sorted(copies.iterdir()):
        copy.write_bytes(_one_word_changed(copy))
    with cpu_stopwatch() as elapsed:
        edited = assistant.ingest([copies])
    edit = elapsed()
    assert edited.updated == len(files), edited
    return {
        "files": len(files),
        "chunks": first.chunks,
        "full_seconds": round(full[0], 2),
        "full_cpu_seconds": round(full[1], 2),
        "edit_seconds": round(edit[0], 2),
        "edit_cpu_seconds": round(edit[1], 2),
        "chunks_reused": edited.chunks_reused,
        "edit_vs_full": round(edit[0] / full[0], 4),
    }


def _one_word_changed(path: Path) -> bytes:
    """The file's bytes with one " the " that its extracted text holds made " a "."""
    data = path.read_bytes()
    text = load_document(path, path.name, 50_000_000).text
    at = data.find(b" the ", len(data) // 2)
    while at >= 0:
        edited = data[:at] + b" a " + data[at + 5 :]
        path.write_bytes(edited)
        if load_document(path, path.name, 50_000_000).text != text:
            return edited
        at = data.find(b" the ", at + 1)
    return data + b"\nEdited."


def llama_index_default(documents: list[Document], workdir: Path, assistant: Assistant) -> int:
    """llama-index's default ingestion into Chroma; returns the number of nodes."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from llama_index.core import Document as LlamaDocument
    from llama_index.core import Settings as LlamaSettings
    from llama_index.core import StorageContext, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.vector_stores.chroma import ChromaVectorStore

    LlamaSettings.llm = None
    client = chromadb.PersistentClient(
        path=str(workdir / "llama-chroma"), settings=ChromaSettings(anonymized_telemetry=False)
    )
    collection = client.create_collection("llamaindex", embedding_function=None)
    embed_model = HuggingFaceEmbedding(model_name=str(assistant.embedder.model_path), device="cpu")
    embed_model.get_text_embedding("warm up")
    splitter = SentenceSplitter(
        chunk_size=assistant.settings.chunk_size,
        chunk_overlap=assistant.settings.chunk_overlap,
        tokenizer=assistant.embedder.tokenize_ids,
    )
    index = VectorStoreIndex.from_documents(
        [LlamaDocument(text=d.text, metadata={"source": d.source}) for d in documents],
        storage_context=StorageContext.from_defaults(
            vector_store=ChromaVectorStore(chroma_collection=collection)
        ),
        embed_model=embed_model,
        transformations=[splitter],
    )
    return len(index.index_struct.nodes_dict) or collection.count()


def thread_rounds(inputs: list[str], counts: Sequence[int], rounds: int = 3) -> dict[str, object]:
    """The ONNX encoder on 1, 2 ... threads (`embed_threads`) on the same inputs, interleaved for
    `rounds` rounds in this process (models loaded first): median wall and CPU seconds, and the
    speed-up of each count over one thread."""
    import statistics

    from assistant.embedding import Embedder

    encoders = {count: Embedder(backend="onnx", threads=count) for count in counts}
    timings: dict[int, list[tuple[float, float]]] = {count: [] for count in counts}
    for encoder in encoders.values():
        encoder.embed_texts(["load the model before timing"])
    for _ in range(rounds):
        for count, encoder in encoders.items():
            with cpu_stopwatch() as elapsed:
                encoder.embed_texts(inputs)
            timings[count].append(elapsed())
    wall = {c: statistics.median(t[0] for t in times) for c, times in timings.items()}
    cpu = {c: statistics.median(t[1] for t in times) for c, times in timings.items()}
    return {
        "inputs": len(inputs),
        "rounds": rounds,
        "threads": {
            str(count): {
                "seconds": round(wall[count], 2),
                "cpu_seconds": round(cpu[count], 2),
                "inputs_per_second": round(len(inputs) / wall[count], 1),
                "speedup": round(wall[counts[0]] / wall[count], 3),
            }
            for count in counts
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ingest benchmark and print its ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="seeds/ instead of the Python docs")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where ingest.json goes")
    parser.add_argument(
        "--int8-only",
        action="store_true",
        help="only the float against the 8-bit encoder, on every 10th input (interleaved)",
    )
    parser.add_argument(
        "--threads",
        metavar="N,M",
        help="only the encoder on these thread counts (e.g. 1,2), on every 10th input "
        "(interleaved); writes ingest-threads.json",
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="interleaved rounds of the timed steps (median)"
    )
    parser.add_argument("--files", type=int, help="only the first N files of the corpus")
    parser.add_argument(
        "--edit-only",
        action="store_true",
        help="only the re-ingest after a one-word edit of every file; writes ingest-edit.json",
    )
    args = parser.parse_args(argv)
    if args.edit_only:
        files = seed_files() if args.tiny else pydocs_files()
        edited = edit_reingest(files[: args.files], scratch_dir("bench-ingest-"))
        save("ingest-edit", {"edit_reingest": edited}, args.out)
        print(edited)
        return 0
    if args.threads:
        files = seed_files() if args.tiny else pydocs_files()
        assistant = Assistant(Settings.model_validate({"index_dir": scratch_dir("bench-ingest-")}))
        documents = [load_document(path, path.name, 50_000_000) for path in files]
        chunk_inputs, sentence_inputs = embedded_inputs(assistant, documents)
        counts = [int(count) for count in args.threads.split(",")]
        scaling = {"thread_scaling": thread_rounds((chunk_inputs + sentence_inputs)[::10], counts)}
        save("ingest-threads", scaling, args.out)
        print(scaling["thread_scaling"])
        return 0
    if args.int8_only:
        files = seed_files() if args.tiny else pydocs_files()
        assistant = Assistant(Settings.model_validate({"index_dir": scratch_dir("bench-ingest-")}))
        documents = [load_document(path, path.name, 50_000_000) for path in files]
        chunk_inputs, sentence_inputs = embedded_inputs(assistant, documents)
        result = {"int8_encoder": int8_rounds((chunk_inputs + sentence_inputs)[::10])}
        save("ingest-int8", result, args.out)
        print(result["int8_encoder"])
        return 0
    if not args.tiny:  # the peer runs last: fail before the long steps, not after them
        try:
            import llama_index.embeddings.huggingface
            import llama_index.vector_stores.chroma  # noqa: F401
        except ImportError as exc:
            raise SystemExit(f"{exc}: install the [bench] extra (make bench does)") from exc
    files = seed_files() if args.tiny else pydocs_files()
    if args.files:
        files = files[: args.files]
    size_mb = sum(path.stat().st_size for path in files) / 1e6
    workdir = scratch_dir("bench-ingest-")
    documents = [load_document(path, path.name, 50_000_000) for path in files]

    def fresh(name: str) -> Assistant:
        folder = workdir / name
        return Assistant(
            Settings.model_validate({"index_dir": folder / "index", "data_dir": folder / "data"})
        )

    assistant = fresh("inputs")
    assistant.embedder.embed_texts(["load the model before timing"])
    chunk_inputs, sentence_inputs = embedded_inputs(assistant, documents)
    inputs = chunk_inputs + sentence_inputs
    model = _sentence_transformer(str(assistant.embedder.model_path))
    model.encode(inputs[:32], batch_size=32)

    # The steps interleaved, round after round, each round in another order, so that a change
    # of the machine's load falls on every step alike; the medians are compared.
    timings: dict[str, list[tuple[float, float]]] = {"ingest": [], "bare": [], "peer": []}
    chunks, llama_nodes, noop_s = 0, 0, float("nan")
    steps = ["ingest", "bare", "peer"]
    for round_number in range(args.rounds):
        order = steps[round_number % 3 :] + steps[: round_number % 3]
        for step in order:
            if step == "ingest":
                ours = fresh(f"ours-{round_number}")
                ours.embedder.embed_texts(["load the model before timing"])
                with cpu_stopwatch() as elapsed:
                    report = ours.ingest(files)
                timings["ingest"].append(elapsed())
                assert report.added == len(files), report
                assert not report.failed, report
                chunks = report.chunks
                if round_number == 0:
                    with cpu_stopwatch() as elapsed:
                        noop = ours.ingest(files)
                    noop_s = elapsed()[0]
                    assert noop.unchanged == len(files), noop
            elif step == "bare":
                with cpu_stopwatch() as elapsed:
                    model.encode(inputs, batch_size=32)
                timings["bare"].append(elapsed())
            else:
                try:
                    with cpu_stopwatch() as elapsed:
                        llama_nodes = llama_index_default(
                            documents, workdir / f"peer-{round_number}", assistant
                        )
                    timings["peer"].append(elapsed())
                except ImportError as exc:  # the [bench] extra; only --tiny goes without
                    if not args.tiny:
                        raise SystemExit(f"{exc}: install the [bench] extra") from exc
                    print(f"--tiny: the llama-index peer is skipped ({exc})")
                    steps.remove("peer")
    assert len(chunk_inputs) == chunks, (len(chunk_inputs), chunks)

    def median(step: str) -> tuple[float, float]:
        if not timings[step]:
            return float("nan"), float("nan")
        return (
            statistics.median(t[0] for t in timings[step]),
            statistics.median(t[1] for t in timings[step]),
        )

    full, bare, llama = median("ingest"), median("bare"), median("peer")
    with cpu_stopwatch() as elapsed:
        assistant.embedder.embed_texts(inputs)
    encoder = elapsed()
    int8 = int8_rounds(inputs[::10])
    edit = edit_reingest(files, workdir)

    def rates(seconds: tuple[float, float], count: int) -> dict[str, float]:
        wall, cpu = seconds
        return {
            "seconds": round(wall, 2),
            "cpu_seconds": round(cpu, 2),
            "chunks_per_s": round(count / wall, 2),
            "chunks_per_cpu_s": round(count / cpu, 2),
        }

    ours, limit, peer = rates(full, chunks), rates(bare, chunks), rates(llama, llama_nodes)
    result = {
        "corpus": {"files": len(files), "megabytes": round(size_mb, 2), "chunks": chunks},
        "embedding_backend": assistant.embedder.backend_name,
        "ingest": ours,
        "noop_reingest": {"seconds": round(noop_s, 3), "share_of_full": round(noop_s / full[0], 4)},
        "bare_encoder": limit,
        "our_encoder_alone": rates(encoder, chunks),
        "llama_index_default": {"nodes": llama_nodes, **peer},
        "rounds": args.rounds,
        "ratios": {  # of the medians; wall-clock first (the targets), CPU time beside it
            "ingest_vs_bare_encoder": round(ours["chunks_per_s"] / limit["chunks_per_s"], 3),
            "ingest_vs_llama_index": round(ours["chunks_per_s"] / peer["chunks_per_s"], 3),
            "noop_vs_full": round(noop_s / full[0], 4),
            "cpu_ingest_vs_bare_encoder": round(
                ours["chunks_per_cpu_s"] / limit["chunks_per_cpu_s"], 3
            ),
            "cpu_ingest_vs_llama_index": round(
                ours["chunks_per_cpu_s"] / peer["chunks_per_cpu_s"], 3
            ),
        },
        "targets": {
            "ingest_vs_bare_encoder": 0.85,
            "ingest_vs_llama_index": 1.3,
            "noop_vs_full": 0.03,
        },
    }
    save("ingest", result, args.out)
    save("ingest-int8", {"int8_encoder": int8}, args.out)
    save("ingest-edit", {"edit_reingest": edit}, args.out)
    ratios = result["ratios"]
    print(
        f"medians of {args.rounds} interleaved rounds, chunks per wall-clock second: ingest "
        f"{ours['chunks_per_s']} | bare encoder {limit['chunks_per_s']} | llama-index "
        f"{peer['chunks_per_s']} | ratio vs bare {ratios['ingest_vs_bare_encoder']} (target >= "
        f"0.85) | vs llama-index {ratios['ingest_vs_llama_index']} (target >= 1.3) | no-op "
        f"{noop_s:.2f} s = {100 * ratios['noop_vs_full']:.2f} % of full (target <= 3 %); per "
        f"CPU-second {ratios['cpu_ingest_vs_bare_encoder']} and "
        f"{ratios['cpu_ingest_vs_llama_index']}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
