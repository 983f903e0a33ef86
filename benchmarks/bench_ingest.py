"""Ingest throughput on the real corpus against the limit (the bare encoder) and a peer.

    python -m benchmarks.bench_ingest

In one run, on the 53 pages of the Python docs listed in tests/golden/pydocs_corpus.txt:
1. `Assistant.ingest` into a fresh index (model already loaded): chunks/s;
2. the same ingest again with nothing changed (the no-op re-ingest);
3. the limit: bare `SentenceTransformer.encode` of exactly the texts our ingest embeds;
4. the peer: llama-index's default pipeline, `VectorStoreIndex.from_documents` into Chroma with
   the same model (HuggingFaceEmbedding) and the same chunk sizes, from the same extracted
   texts (so it is spared the HTML parsing our timing includes).
Prints the ratios and writes benchmarks/results/ingest.json.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from assistant import Assistant, Settings
from assistant.chunking import Chunker
from assistant.embedding import _sentence_transformer
from assistant.ingest import context_prefix
from assistant.loaders import load_document
from assistant.types import Document
from benchmarks.common import pydocs_files, save, stopwatch


def embedded_inputs(assistant: Assistant, documents: list[Document]) -> list[str]:
    """Exactly what ingest embeds: each chunk's context prefix and text."""
    settings = assistant.settings
    chunker = Chunker(settings.chunk_size, settings.chunk_overlap, assistant.embedder.tokenize_ids)
    inputs = []
    for document in documents:
        for chunk in chunker.chunk(document.source, document.text):
            inputs.append(context_prefix(document, chunk) + chunk.text)
    return inputs


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


def main() -> None:
    """Run the ingest benchmark and print its ratios."""
    files = pydocs_files()
    size_mb = sum(path.stat().st_size for path in files) / 1e6
    workdir = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    settings = Settings.model_validate(
        {"index_dir": workdir / "index", "data_dir": workdir / "data"}
    )
    assistant = Assistant(settings)
    assistant.embedder.embed_texts(["load the model before timing"])

    with stopwatch() as elapsed:
        report = assistant.ingest(files)
    full_s = elapsed()
    chunks = report.chunks
    assert report.added == len(files), report
    assert not report.failed, report

    with stopwatch() as elapsed:
        noop = assistant.ingest(files)
    noop_s = elapsed()
    assert noop.unchanged == len(files), noop

    documents = [load_document(path, path.name, 50_000_000) for path in files]
    inputs = embedded_inputs(assistant, documents)
    assert len(inputs) == chunks, (len(inputs), chunks)
    model = _sentence_transformer(str(assistant.embedder.model_path))
    model.encode(inputs[:32], batch_size=32)
    with stopwatch() as elapsed:
        model.encode(inputs, batch_size=32)
    bare_s = elapsed()
    with stopwatch() as elapsed:
        assistant.embedder.embed_texts(inputs)
    encoder_s = elapsed()

    with stopwatch() as elapsed:
        llama_nodes = llama_index_default(documents, workdir, assistant)
    llama_s = elapsed()

    ours = chunks / full_s
    bare = chunks / bare_s
    llama = llama_nodes / llama_s
    result = {
        "corpus": {"files": len(files), "megabytes": round(size_mb, 2), "chunks": chunks},
        "embedding_backend": assistant.embedder.backend_name,
        "ingest": {"seconds": round(full_s, 2), "chunks_per_s": round(ours, 2)},
        "noop_reingest": {"seconds": round(noop_s, 3), "share_of_full": round(noop_s / full_s, 4)},
        "bare_encoder": {"seconds": round(bare_s, 2), "chunks_per_s": round(bare, 2)},
        "our_encoder_alone": {
            "seconds": round(encoder_s, 2),
            "chunks_per_s": round(chunks / encoder_s, 2),
        },
        "llama_index_default": {
            "seconds": round(llama_s, 2),
            "nodes": llama_nodes,
            "chunks_per_s": round(llama, 2),
        },
        "ratios": {
            "ingest_vs_bare_encoder": round(ours / bare, 3),
            "ingest_vs_llama_index": round(ours / llama, 3),
            "noop_vs_full": round(noop_s / full_s, 4),
        },
        "targets": {
            "ingest_vs_bare_encoder": 0.85,
            "ingest_vs_llama_index": 1.3,
            "noop_vs_full": 0.03,
        },
    }
    save("ingest", result)
    print(
        f"ingest {ours:.1f} chunks/s | bare encoder {bare:.1f} | llama-index {llama:.1f} | "
        f"ratio vs bare {ours / bare:.2f} (target >= 0.85) | vs llama-index {ours / llama:.2f} "
        f"(target >= 1.3) | no-op {noop_s:.2f} s = {100 * noop_s / full_s:.1f} % of full "
        f"(target <= 3 %)"
    )


if __name__ == "__main__":
    main()
