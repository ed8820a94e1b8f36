"""Which hot SKUs a hot stock pass asks the ERP for, and how they fill its calls.

The Cegid contract has no "changed since" stock query: freshness comes from asking again, and
what the tenant's ERP counts is calls, each ``GetListItemInventoryDetailByStore`` carrying up to
50 EANs (what Cegid clients send; the contract documents no maximum). So the hot set has two
tiers:

- viewed now (wanted in the last ``now``): read on every pass, one pass period apart, so an
  in-store sale of a SKU on screen is online within about one period;
- the rest of the hot window: read again every ``rest`` (longer), which pays for the first tier.

A SKU is *due* when, left for the next pass, it would be more than half a pass late. The last
read counts whoever made it (a pass of another worker, the API's read-through): a SKU read
moments ago is not asked again. A pass makes as many calls as its due SKUs need and fills the
free places of its last call with the SKUs that fall due next: the same calls, fresher stock.

A pass reads at most its share of the rest tier (its size x period / rest), the longest unread
first: a crowd of SKUs falling due together (start-up, a burst of views) is spread over the
next passes instead of making one long pass that would hold back the SKUs viewed now; their
reads spread out with it, so the passes stay short and evenly spaced.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, TypeVar


class Candidate(Protocol):
    """A hot SKU as a pass sees it (``stores.stock.HotSku``)."""

    @property
    def due(self) -> bool: ...

    @property
    def viewed(self) -> bool: ...


C = TypeVar("C", bound=Candidate)


@dataclass(frozen=True, slots=True)
class HotBounds:
    """The bounds of one pass, for ``stores.stock.hot_skus``."""

    since: datetime  # wanted since then: hot
    viewed_since: datetime  # wanted since then: viewed now
    viewed_read_before: datetime  # a SKU viewed now read at or before this is due
    rest_read_before: datetime  # any hot SKU read at or before this is due


@dataclass(frozen=True, slots=True)
class HotSchedule:
    window: timedelta = timedelta(minutes=15)  # hot this long after it was last wanted
    now: timedelta = timedelta(minutes=1)  # wanted this recently: read on every pass
    period: timedelta = timedelta(seconds=1.25)  # the pass period
    rest: timedelta = timedelta(seconds=10)  # the other hot SKUs are read again this often

    def bounds(self, at: datetime) -> HotBounds:
        """The bounds of a pass starting ``at``: a SKU is due when its last read is older than
        its tier's period less half a pass period."""
        slack = self.period / 2
        return HotBounds(
            since=at - self.window,
            viewed_since=at - self.now,
            viewed_read_before=at - self.period + slack,
            rest_read_before=at - max(self.rest, self.period) + slack,
        )

    def calls(self, rows: Sequence[C], size: int) -> list[list[C]]:
        """The calls of a pass, ``size`` identifiers each: ``rows`` ordered due first, viewed
        before the rest, then the longest unread (as ``stores.stock.hot_skus`` returns them).
        As few calls as the due rows need (the rest tier's within its share), the last one
        filled up with the rows that come next."""
        viewed_due = sum(r.due and r.viewed for r in rows)
        rest_due = sum(r.due and not r.viewed for r in rows)
        share = sum(not r.viewed for r in rows) * min(1.0, self.period / self.rest)
        asked = viewed_due + min(rest_due, math.ceil(share))
        take = rows[: -(-asked // size) * size]
        return [list(take[i : i + size]) for i in range(0, len(take), size)]
