"""Stock changes committed here, announced to the other replicas in batches.

A pickup's holds change its SKUs' availability: every replica must drop what it cached of them.
The creating process drops its own entries as soon as the creation commits
(``StockReader.changed_here``) and hands the SKUs to a ``ChangeAnnouncer``, which sends them to
everyone listening (``stores.notify``, the stock channel) in one NOTIFY a few milliseconds later,
with every other SKU changed meanwhile.

Why not a NOTIFY inside each creation's transaction, as sql/0014 had it (sql/0017 took it out):
PostgreSQL serialises
the commits of notifying transactions (a database-wide lock from pre-commit to the end of the
commit), and every notification is a message to each listening connection. Measured with
``bench/pickups.py`` (20 s runs, 16 connections, one server), the same day: with the NOTIFY
in the creation, 603-788 answers/s in nine runs (median 687), 1.06-1.32 ms of server and
1.04-1.28 ms of PostgreSQL CPU an answer; announced in batches, 769-811 answers/s in three,
1.09-1.11 and 0.92-0.99 ms.

What that costs: the other replicas hear of a hold up to ``delay_s`` later (their answers were
already up to ``OMNISTOCK_ANSWER_CACHE_S`` late), and if this process dies in that window they
do not hear of it at all: their entries of those SKUs then live out ``OMNISTOCK_CACHE_TTL_S``
(60 s by default). Nothing can be oversold meanwhile: a creation decides on the rows it reads
from PostgreSQL, never on a cache. When a NOTIFY fails (PostgreSQL unreachable), the SKUs are
sent again with the next batch; the other replicas' listeners drop everything anyway once they
listen again after such a failure (``service.api.stock_context``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

import asyncpg

from stores.notify import STOCK_CHANNEL, notify_changed

log = logging.getLogger("omnistock.stock")

ANNOUNCE_DELAY_S = 0.02  # a batch waits this long for more changes before it is sent
RETRY_S = 1.0  # after a failed NOTIFY
MAX_PENDING = 100_000  # SKUs waiting to be announced, at most (past it, the batch is dropped)


class ChangeAnnouncer:
    def __init__(
        self,
        pool: asyncpg.Pool,
        delay_s: float = ANNOUNCE_DELAY_S,
        max_pending: int = MAX_PENDING,
    ) -> None:
        self.pool, self.delay_s, self.max_pending = pool, delay_s, max_pending
        self._pending: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self.sent = 0  # notifications sent (read by the tests)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def announce(self, skus: Iterable[str]) -> None:
        """Queue ``skus`` for the next batch (sent within ``delay_s``)."""
        self._pending.update(skus)
        if len(self._pending) > self.max_pending:
            # only reached if NOTIFY keeps failing while creations still commit: the other
            # replicas' entries expire by their TTL, and a lost listener drops them all
            log.warning("dropping %d stock changes not announced", len(self._pending))
            self._pending.clear()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._send_later(self.delay_s))

    async def _send_later(self, delay_s: float) -> None:
        """Send after ``delay_s``, and again while changes came in meanwhile (``announce``
        starts no task while this one runs) or the NOTIFY failed."""
        while True:
            await asyncio.sleep(delay_s)
            try:
                await self.flush()
            except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
                log.warning("could not announce stock changes, again in %.0f s: %s", RETRY_S, e)
                delay_s = RETRY_S
                continue
            if not self._pending:
                return  # no await from here on: an announce() now sees this task done
            delay_s = self.delay_s

    async def flush(self) -> int:
        """Send what is queued now: the notifications sent. On failure the SKUs stay queued."""
        skus, self._pending = self._pending, set()
        if not skus:
            return 0
        try:
            async with self.pool.acquire() as conn:
                sent = await notify_changed(conn, STOCK_CHANNEL, skus)
        except BaseException:
            self._pending |= skus
            raise
        self.sent += sent
        return sent

    async def aclose(self) -> None:
        """Stop the timer and send what is left (at shutdown; errors are logged)."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        try:
            await self.flush()
        except Exception as exc:  # shutting down: the other replicas' entries expire by TTL
            log.warning("could not announce %d stock changes at shutdown: %s", self.pending, exc)
