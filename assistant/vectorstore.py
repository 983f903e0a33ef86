"""Chunk vectors in Chroma: embedded (PersistentClient, default) or a Chroma server (HttpClient).

Only ids, vectors and the owning document id live here; texts and offsets live in the catalog.
Chroma never embeds anything itself (no default embedding function) and telemetry is off.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential

from assistant.collections import DEFAULT_COLLECTION
from assistant.errors import VectorStoreError
from assistant.settings import Settings

_ADD_BATCH = 1000
# How many candidates Chroma's HNSW search keeps while it walks the graph (Chroma's default is
# 100): fewer nearest neighbours missed, and the search stays a few milliseconds at a million
# vectors (docs/benchmarks.md).
EF_SEARCH = 500
# Chroma saves its HNSW graph once every this many vectors written (its default). The vectors
# written since the last save are inserted again by every process that opens the store, in
# parallel and so in a different order each time: the graph, and now and then a question's
# nearest neighbours, differed from one process to the next. `VectorStore.settle` saves them.
SYNC_THRESHOLD = 1000
T = TypeVar("T")
_log = logging.getLogger(__name__)

__all__ = ["VectorStore", "VectorStoreError"]


class VectorStore:
    """A cosine-distance Chroma collection of chunk vectors."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._collection: Any = None
        self._client: Any = None
        self._lock = threading.Lock()
        self._settling = False  # settle() holds the save threshold low on purpose

    @property
    def path(self) -> Path:
        """Where the embedded store keeps its files."""
        return self._settings.index_dir / "chroma"

    @property
    def collection(self) -> Any:
        """The Chroma collection, connected on first use (and again after a server failure)."""
        with self._lock:
            if self._collection is None:
                client = self._connect()
                self._collection = self._guarded(
                    "open the collection",
                    lambda: _open_collection(client, self._settings.collection, self._settling),
                )
                self._client = client
            return self._collection

    @property
    def where(self) -> str:
        """The store's location for messages: host:port of a server, or the directory."""
        settings = self._settings
        if settings.chroma_mode == "http":
            return f"the Chroma server at {settings.chroma_host}:{settings.chroma_port}"
        return f"the vector store in {self.path}"

    def _guarded(self, action: str, call: Callable[[], T]) -> T:
        """Run a Chroma call; a server failure becomes VectorStoreError and a later reconnect."""
        try:
            return call()
        except VectorStoreError:
            raise
        except Exception as exc:
            if self._settings.chroma_mode != "http":
                raise  # an embedded store has no connection to lose: a real bug, shown as such
            # Forget the client: the next call reconnects, so a restarted server is picked up
            # without restarting the assistant.
            self._collection = None
            self._client = None
            raise VectorStoreError(
                f"cannot reach {self.where} to {action} ({type(exc).__name__}); "
                "check that it is running, then retry"
            ) from exc

    def _use(self, action: str, call: Callable[[Any], T]) -> T:
        collection = self.collection
        return self._guarded(action, lambda: call(collection))

    def _connect(self) -> Any:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        settings = self._settings
        if settings.chroma_mode == "http":
            headers = {}
            if settings.chroma_token is not None:
                headers["Authorization"] = f"Bearer {settings.chroma_token.get_secret_value()}"
            return self._guarded(
                "connect",
                lambda: chromadb.HttpClient(
                    host=settings.chroma_host,
                    port=settings.chroma_port,
                    headers=headers,
                    settings=ChromaSettings(anonymized_telemetry=False),
                ),
            )
        self.path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(
            path=str(self.path), settings=ChromaSettings(anonymized_telemetry=False)
        )

    def add(
        self,
        ids: Sequence[str],
        vectors: npt.NDArray[np.float32],
        doc_ids: Sequence[str],
        collections: Sequence[str] | None = None,
    ) -> None:
        """Insert or replace vectors, each tagged with its document and collection."""
        tags = collections if collections is not None else [DEFAULT_COLLECTION] * len(ids)
        for begin in range(0, len(ids), _ADD_BATCH):
            batch = slice(begin, begin + _ADD_BATCH)
            metadatas = [
                {"doc_id": doc_id, "collection": name}
                for doc_id, name in zip(doc_ids[batch], tags[batch], strict=True)
            ]
            self._use(
                "store vectors",
                partial(_upsert, ids=list(ids[batch]), vectors=vectors[batch], metadatas=metadatas),
            )

    def settle(self) -> None:
        """Save every vector written so far into the embedded store's HNSW graph, so that every
        process that opens the store searches the same graph (after an ingest run).

        Chroma saves the graph only every SYNC_THRESHOLD vectors written, and a process opening
        the store inserts the rest anew in an order of its own. Public API only: the save
        threshold is lowered, the store reopened and searched once (which inserts those
        vectors and, past the threshold, saves the graph), and the threshold put back (also
        when the store is next opened, should this process die in between). A Chroma server
        keeps one graph in memory for every replica: nothing to do there.
        """
        if self._settings.chroma_mode == "http":
            return
        # Best effort: the ingest is committed either way. Chroma's configuration lives in its
        # SQLite file, which a reader in another thread or process may hold ("database is
        # locked"); the next ingest run saves what this one could not.
        try:
            self._use("save the vector index", partial(_set_sync_threshold, value=2))
        except Exception as exc:
            _log.warning("vector index not saved now (%s); the next ingest saves it", exc)
            return
        self._settling = True
        try:
            self.refresh()  # the store's writer reads the threshold when it is opened
            probe = self._use("save the vector index", _probe)
            if probe is not None:
                self._use("save the vector index", partial(_search_once, vector=probe))
        except Exception as exc:
            _log.warning("vector index not saved now (%s); the next ingest saves it", exc)
        finally:
            self._settling = False
            try:
                self._use(
                    "save the vector index", partial(_set_sync_threshold, value=SYNC_THRESHOLD)
                )
            except Exception as exc:  # put back when the store is next opened (_open_collection)
                _log.warning("vector index save threshold not restored yet (%s)", exc)
            self.refresh()

    def set_collection(self, ids: Sequence[str], doc_id: str, collection: str) -> None:
        """Tag a document's stored vectors with a (new) collection; no vector is re-embedded."""
        for begin in range(0, len(ids), _ADD_BATCH):
            batch = list(ids[begin : begin + _ADD_BATCH])
            metadatas = [{"doc_id": doc_id, "collection": collection}] * len(batch)
            self._use("tag vectors", partial(_update, ids=batch, metadatas=metadatas))

    def vectors(self, ids: Sequence[str]) -> dict[str, npt.NDArray[np.float32]]:
        """Stored vectors by id (unknown ids are left out), to copy them without re-embedding."""
        found: dict[str, npt.NDArray[np.float32]] = {}
        for begin in range(0, len(ids), _ADD_BATCH):
            batch = list(ids[begin : begin + _ADD_BATCH])
            page = self._use("read vectors", partial(_vectors_page, ids=batch))
            found.update(zip(page["ids"], np.asarray(page["embeddings"], np.float32), strict=True))
        return found

    def delete(self, ids: Sequence[str]) -> None:
        """Delete vectors by id (unknown ids are ignored)."""
        for begin in range(0, len(ids), _ADD_BATCH):
            self._use("delete vectors", partial(_delete, ids=list(ids[begin : begin + _ADD_BATCH])))

    def query(
        self,
        vector: npt.NDArray[np.float32],
        limit: int,
        where: dict[str, Any] | None = None,
    ) -> list[tuple[str, float]]:
        """Nearest vectors as (id, cosine similarity), best first, among those `where` admits.

        The filter runs inside the search (Chroma's metadata `where`), before the `limit` cut.
        """
        # No count() first: Chroma returns fewer hits when it has fewer, and counting a
        # million vectors costs ~50 ms while the search itself takes under a millisecond.
        result = self._use(
            "search",
            lambda c: c.query(
                query_embeddings=[vector], n_results=limit, where=where, include=["distances"]
            ),
        )
        ids = result["ids"][0]
        distances = result["distances"][0]
        return [(str(i), 1.0 - float(d)) for i, d in zip(ids, distances, strict=True)]

    def count(self) -> int:
        """Number of stored vectors."""
        return int(self._use("count vectors", lambda c: c.count()))

    def all_ids(self) -> set[str]:
        """Every stored id (for consistency checks)."""
        ids: set[str] = set()
        offset = 0
        while True:
            page = self._use("list vectors", partial(_ids_page, offset=offset))
            ids.update(page)
            if len(page) < 10_000:
                return ids
            offset += len(page)

    def reset(self) -> None:
        """Drop and recreate the collection."""
        collection = self.collection
        with self._lock:
            client = self._client
            self._guarded("drop the collection", lambda: client.delete_collection(collection.name))
            self._collection = None

    @property
    def is_open(self) -> bool:
        """Whether a client is connected."""
        return self._collection is not None

    def refresh(self) -> None:
        """Reopen an embedded store so that vectors another process wrote become searchable.

        Chroma keeps one system per directory per process, and its in-memory HNSW reader never
        sees another process's writes. Its public `clear_system_cache` (of the client API) lets
        the next client load the index afresh; collection handles already in use by other
        threads keep working.
        """
        if self._settings.chroma_mode == "http":
            return  # a server holds the one shared index
        from chromadb.api.client import Client

        with self._lock:
            Client.clear_system_cache()
            self._client = None
            self._collection = None


def _open_collection(client: Any, name: str, settling: bool = False) -> Any:
    """The collection, created with the search depth, or raised to it if made before."""
    collection = client.get_or_create_collection(
        name,
        embedding_function=None,
        configuration={"hnsw": {"space": "cosine", "ef_search": EF_SEARCH}},
    )
    with warnings.catch_warnings():
        # Chroma calls the collection's embedding function (none: we embed) "legacy config" on
        # every read of its configuration; in a team's pytest run it was a warning for each.
        warnings.filterwarnings("ignore", "legacy embedding function config", DeprecationWarning)
        hnsw = (collection.configuration or {}).get("hnsw") or {}
    if hnsw.get("ef_search", EF_SEARCH) < EF_SEARCH:
        _configure(collection, {"ef_search": EF_SEARCH})
    if not settling and hnsw.get("sync_threshold", SYNC_THRESHOLD) < SYNC_THRESHOLD:
        # A settle cut short: left low, every write would save the whole graph. Or another
        # process's settle under way, which puts it back itself: never fail an open for it.
        try:
            _set_sync_threshold(collection, SYNC_THRESHOLD)
        except Exception as exc:
            _log.warning("vector index save threshold not restored yet (%s)", exc)
    return collection


def _set_sync_threshold(collection: Any, value: int) -> None:
    _configure(collection, {"sync_threshold": value})


def _is_locked(exc: BaseException) -> bool:
    return "database is locked" in str(exc)


# Chroma's configuration lives in its SQLite file. A write there fails at once with "database
# is locked" (not after SQLite's busy wait) when it would deadlock with a read still open on
# another of Chroma's connections, one of this process's own included; that read ends within
# moments, so the write is tried again a few times before the error is passed on.
@retry(
    retry=retry_if_exception(_is_locked),
    stop=stop_after_attempt(6),
    wait=wait_exponential(multiplier=0.05, max=1.0),
    reraise=True,
)
def _configure(collection: Any, hnsw: dict[str, int]) -> None:
    """Change the collection's HNSW settings."""
    collection.modify(configuration={"hnsw": hnsw})


def _probe(collection: Any) -> Any:
    """One stored vector to search with (None: the store is empty)."""
    found = collection.get(limit=1, include=["embeddings"])
    return found["embeddings"][0] if found["ids"] else None


def _search_once(collection: Any, vector: Any) -> None:
    collection.query(query_embeddings=[vector], n_results=1, include=[])


def _upsert(collection: Any, ids: list[str], vectors: Any, metadatas: list[Any]) -> None:
    collection.upsert(ids=ids, embeddings=vectors, metadatas=metadatas)


def _update(collection: Any, ids: list[str], metadatas: list[Any]) -> None:
    collection.update(ids=ids, metadatas=metadatas)


def in_collections(names: Sequence[str]) -> dict[str, Any]:
    """The `where` filter admitting the vectors of some collections."""
    if len(names) == 1:
        return {"collection": names[0]}
    return {"collection": {"$in": list(names)}}


def of_documents(doc_ids: Sequence[str]) -> dict[str, Any]:
    """The `where` filter admitting the vectors of some documents (indexes tagged before
    collections existed carry only their document)."""
    if len(doc_ids) == 1:
        return {"doc_id": doc_ids[0]}
    return {"doc_id": {"$in": list(doc_ids)}}


def _delete(collection: Any, ids: list[str]) -> None:
    collection.delete(ids=ids)


def _vectors_page(collection: Any, ids: list[str]) -> Any:
    return collection.get(ids=ids, include=["embeddings"])


def _ids_page(collection: Any, offset: int) -> list[str]:
    return list(collection.get(include=[], limit=10_000, offset=offset)["ids"])
