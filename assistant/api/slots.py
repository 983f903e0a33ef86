"""How many API answers are computed at once, and how long the others may wait for a turn.

Answers run in worker threads; without a bound, a burst of requests would start them all at
once on two cores and every answer would slow down together. A request beyond the waiting room
is told at once that the server is busy (429); one that waits too long gets 503; both carry
Retry-After, so a client backs off instead of hanging.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from assistant.api.errors import SERVER, ApiError
from assistant.settings import Settings


class AnswerSlots:
    """At most `concurrency` answers at once, `queue_size` waiting, each for `timeout` seconds."""

    def __init__(self, concurrency: int, queue_size: int, timeout: float, retry_after: int) -> None:
        self.concurrency = concurrency
        self.queue_size = queue_size
        self.timeout = timeout
        self.retry_after = retry_after
        self.running = 0
        self.waiting = 0
        self._free: asyncio.Semaphore | None = None  # made on first use, in the server's loop

    @classmethod
    def from_settings(cls, settings: Settings) -> AnswerSlots:
        """The slots configured for the API."""
        return cls(
            settings.api_concurrency,
            settings.api_queue_size,
            settings.api_queue_timeout,
            settings.busy_retry_after,
        )

    def admit(self) -> None:
        """Fail with 429 when every slot is taken and the waiting room is full."""
        if self.running >= self.concurrency and self.waiting >= self.queue_size:
            raise self._busy(
                429,
                f"the server is busy: {self.running} answers running and {self.waiting} "
                "waiting; retry shortly",
            )

    @asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        """Wait for a slot (or fail with 429/503) and hold it for the block."""
        if self._free is None:
            self._free = asyncio.Semaphore(self.concurrency)
        free = self._free
        if free.locked():
            self.admit()
        self.waiting += 1
        try:
            await asyncio.wait_for(free.acquire(), self.timeout)
        except TimeoutError:
            raise self._busy(
                503,
                f"the server is busy: no answer slot came free within {self.timeout:g} s; "
                "retry shortly",
            ) from None
        finally:
            self.waiting -= 1
        self.running += 1
        try:
            yield
        finally:
            self.running -= 1
            free.release()

    def _busy(self, status: int, message: str) -> ApiError:
        return ApiError(
            status,
            message,
            code="server_busy",
            kind=SERVER,
            headers={"Retry-After": str(self.retry_after)},
        )
