"""Enrichment: the models and rules that turn a raw ticket into an enriched one.

`Enricher` and `get_enricher` load onnxruntime on first access only, so the light parts
(urgency rules, the CLI's argument parsing) import without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ticketlens.enrichment.enricher import Enricher, StageTimes, get_enricher

__all__ = ["Enricher", "StageTimes", "get_enricher"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from ticketlens.enrichment import enricher

        return getattr(enricher, name)
    raise AttributeError(f"module 'ticketlens.enrichment' has no attribute {name!r}")
