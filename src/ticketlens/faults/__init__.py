"""The pipeline under faults: a corpus of hostile objects and a harness that bursts tickets,
kills the worker mid-batch and checks that nothing was lost, overwritten or written twice."""

from ticketlens.faults.corpus import Hostile, hostile_corpus

__all__ = ["Hostile", "hostile_corpus"]
