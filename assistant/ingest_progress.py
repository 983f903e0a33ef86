"""An ingest's progress: the terminal bar's notes and the `on_progress` callback's events."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from assistant.types import IngestProgress, IngestStep

if TYPE_CHECKING:  # the loaders are imported by the first ingest, not by the chat's page
    from assistant.loaders.ocr import Ocr

# Told where an ingest is at each file, OCR page, batch the model embeds and batch written,
# and at the end (IngestProgress).
ProgressCallback = Callable[[IngestProgress], None]


class IngestTracker:
    """An ingest's progress: the terminal bar's chunk and OCR notes, and `on_progress`."""

    def __init__(
        self, on_progress: ProgressCallback | None, bar: tqdm[Any], total: int, started: float
    ) -> None:
        self.on_progress = on_progress
        self.bar = bar
        self.total = total
        self.started = started
        self.files_done = 0
        self.source = ""
        self.chunks_written = 0

    def read(self, done: int, source: str) -> None:
        self.files_done, self.source = done, source
        self._tell("read")

    def with_pages(self, ocr: Ocr | None) -> Ocr | None:
        """`ocr` telling this tracker each page it reads."""
        return None if ocr is None else replace(ocr, on_page=self._page)

    def _page(self, page: int, pages: int) -> None:
        self.bar.set_postfix_str(f"{self.chunks_written} chunks, OCR page {page}/{pages}")
        self._tell("ocr", page=page, pages=pages)

    def embedding(self, total: int) -> Callable[[int], None]:
        """The embedder's `on_batch` for `total` texts: each batch moves the count on."""
        done = 0

        def advance(count: int) -> None:
            nonlocal done
            done += count
            self.bar.set_postfix_str(f"{self.chunks_written} chunks, embedding {done}/{total}")
            self._tell("embed", embedded=done, to_embed=total)

        return advance

    def wrote(self, chunks: int) -> None:
        if chunks:
            self.chunks_written += chunks
            self.bar.set_postfix_str(f"{self.chunks_written} chunks")
            self._tell("write")

    def finish(self) -> None:
        self.files_done, self.source = self.total, ""
        self._tell("done")

    def _tell(self, step: IngestStep, **where: int) -> None:
        if self.on_progress is None:
            return
        self.on_progress(
            IngestProgress(
                step=step,
                files_done=self.files_done,
                files_total=self.total,
                source=self.source,
                chunks_written=self.chunks_written,
                elapsed_s=time.perf_counter() - self.started,
                **where,
            )
        )
