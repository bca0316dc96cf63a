"""At enrichment time: each ticket's similar earlier tickets, its duplicate, its incident.

One call per batch (:func:`neighbours_for`). Each ticket is scored once against everything
it may see, the index snapshot plus the tickets of its own batch that came before it (an
outage's first reports often arrive in one batch), and the three answers come from those
scores:

* ``similar``: the ``k`` best earlier tickets scoring at least ``similar_floor``;
* ``duplicate_of``: the best of them when it scores at least ``duplicate_threshold``
  (chosen for precision >= 0.9 on bug reports it was not chosen on; docs/similar.md);
* ``incident``: set when the ticket is part of a burst: counting itself, at least
  ``incident_min_size`` tickets linked to it (score >= ``incident_link``) arrived within
  ``incident_window_s``, and at least ``incident_burst_ratio`` times as many as the same
  problem's usual rate over the history before the window (up to ``incident_baseline_s``
  of it; with less than a window of history there is no usual rate to compare with). The
  id is the one the linked tickets already carry (the most common), else
  ``INC-<earliest linked ticket>``, so concurrent invocations that see the same first
  reports name the incident alike. A ticket short of a burst of its own still joins an
  incident when at least ``incident_join`` of the tickets it links to in the window carry it
  (an outage's later reports resemble some of its earlier ones, not all).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ticketlens.similar.search import Filter, Hit, Method, Query, Snapshot
from ticketlens.similar.segment import IndexRow, Segment


@dataclass(frozen=True)
class Policy:
    """The rules' constants; the defaults are the documented, measured ones."""

    k: int = 5
    similar_floor: float = 0.4
    duplicate_threshold: float = 0.96
    incident_link: float = 0.5
    incident_window_s: int = 3600
    incident_baseline_s: int = 7 * 24 * 3600
    incident_min_size: int = 5
    incident_burst_ratio: float = 3.0
    incident_join: int = 2
    method: Method = "hybrid"


DEFAULT_POLICY = Policy()


@dataclass(frozen=True)
class TicketQuery:
    """One enriched ticket as the enrich handler hands it over."""

    ticket_id: str
    created_at: int
    embedding: Sequence[float] | np.ndarray
    text: str
    customer_id: str = ""
    intent: str = ""
    urgency: str = ""


@dataclass(frozen=True)
class Neighbours:
    similar: tuple[Hit, ...]
    duplicate_of: str | None
    incident: str | None


def neighbours_for(
    batch: Sequence[TicketQuery], snapshot: Snapshot, policy: Policy = DEFAULT_POLICY
) -> list[Neighbours]:
    """Similar tickets, duplicate and incident for each ticket of a batch, in input order."""
    if not batch:
        return []
    rows = [IndexRow(ticket_id=t.ticket_id, created_at=t.created_at, embedding=np.asarray(t.embedding),
                     text=t.text, customer_id=t.customer_id, intent=t.intent, urgency=t.urgency)
            for t in batch]
    seen = snapshot.with_segment(Segment.from_rows(rows))
    all_scores = seen.scores([Query(np.asarray(t.embedding), t.text) for t in batch])
    incidents: dict[str, str] = {}  # decided so far in this batch: later tickets build on them
    out = []
    for ticket, scores in sorted(zip(batch, all_scores, strict=True), key=lambda p: (p[0].created_at, p[0].ticket_id)):
        earlier = Filter(before=(ticket.created_at, ticket.ticket_id), exclude=frozenset({ticket.ticket_id}))
        masks = seen.masks(earlier)
        combined = scores.combined(policy.method)
        hits = [h for h in seen.top(scores, policy.k, earlier, policy.method, masks) if h.score >= policy.similar_floor]
        duplicate = hits[0].ticket_id if hits and hits[0].score >= policy.duplicate_threshold else None
        incident = _incident(ticket, combined, seen, masks, policy, incidents)
        if incident:
            incidents[ticket.ticket_id] = incident
        out.append((ticket.ticket_id, Neighbours(tuple(hits), duplicate, incident)))
    by_id = dict(out)
    return [by_id[t.ticket_id] for t in batch]


def _incident(ticket: TicketQuery, combined: list[np.ndarray], seen: Snapshot,
              masks: Sequence[np.ndarray | None], policy: Policy, decided: dict[str, str]) -> str | None:
    window_start = ticket.created_at - policy.incident_window_s
    baseline_start = ticket.created_at - policy.incident_baseline_s
    linked: list[tuple[int, str, str]] = []  # (created_at, ticket_id, incident) in the window
    usual = 0
    for segment, values, allowed in zip(seen.segments, combined, masks, strict=True):
        close = values >= policy.incident_link
        if allowed is not None:
            close &= allowed
        recent = close & (segment.created_at >= window_start)
        in_baseline = (segment.created_at >= baseline_start) & (segment.created_at < window_start)
        usual += int(np.count_nonzero(close & in_baseline))
        for r in np.flatnonzero(recent):
            tid = str(segment.ticket_id[r])
            linked.append((int(segment.created_at[r]), tid, decided.get(tid) or str(segment.incident[r])))
    size = len({tid for _, tid, _ in linked}) + 1
    earliest = min((int(s.created_at.min()) for s in seen.segments if len(s)), default=ticket.created_at)
    history = min(window_start - max(earliest, baseline_start), policy.incident_baseline_s - policy.incident_window_s)
    expected = usual * policy.incident_window_s / history if history >= policy.incident_window_s else 0.0
    named = Counter(inc for _, _, inc in linked if inc)
    commonest = min(named, key=lambda inc: (-named[inc], inc)) if named else None
    if size < policy.incident_min_size or size < policy.incident_burst_ratio * expected:
        return commonest if commonest and named[commonest] >= policy.incident_join else None
    return commonest or f"INC-{min(linked)[1]}"
