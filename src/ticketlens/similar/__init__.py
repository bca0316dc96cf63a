"""Similar tickets, duplicates, search and incidents over every enriched ticket.

The embedded default index (:class:`SegmentedIndex`) keeps immutable segments and numbered
manifests in a local folder or under an S3 prefix: no server, safe for many concurrent
writers (docs/similar.md). Searches are exact: dense cosine, BM25, and the hybrid of both.

The enrich handler calls :func:`annotate` once per batch; the indexer handler
(``ticketlens.handlers.index``) appends what was enriched.
"""

from ticketlens.similar.index import IndexBusy, SegmentedIndex
from ticketlens.similar.neighbours import DEFAULT_POLICY, Neighbours, Policy, TicketQuery, neighbours_for
from ticketlens.similar.search import Filter, Hit, Query, Snapshot
from ticketlens.similar.segment import IndexRow
from ticketlens.similar.service import annotate, index_location, open_index, row_from_enriched

__all__ = [
    "DEFAULT_POLICY",
    "Filter",
    "Hit",
    "IndexBusy",
    "IndexRow",
    "Neighbours",
    "Policy",
    "Query",
    "SegmentedIndex",
    "Snapshot",
    "TicketQuery",
    "annotate",
    "index_location",
    "neighbours_for",
    "open_index",
    "row_from_enriched",
]
