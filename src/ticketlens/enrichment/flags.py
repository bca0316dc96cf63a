"""The no-action flag: spam and phishing, automatic replies, thank-you notes.

Such tickets need no answer, and a queue that treats "CLAIM YOUR FREE CRUISE NOW!!!" as a
general inquiry, or "Thank you!" as a medium-urgency bug report, wastes an agent's time. The
flag head (``heads/flag.npz``, trained by ``ticketlens train --head flag``) gives the
probability of each kind; a ticket is flagged only when the probability that it needs no
action reaches :data:`FLAG_THRESHOLD`, because a real customer wrongly flagged is worse than
a spam left in the queue (precision first; figures in docs/quality.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import numpy as np

from ticketlens.schemas import NO_FLAG, Flag

# The lowest threshold at which the flag's precision on the calibration split reached 0.9
# (0.5: 0.86, 0.7: 0.92 at recall 0.85; docs/quality.md). Chosen before the held-out set was scored.
FLAG_THRESHOLD = 0.7


def no_action(
    probabilities: np.ndarray, labels: Sequence[str], english: Sequence[float], threshold: float = FLAG_THRESHOLD
) -> list[tuple[Flag | None, float]]:
    """(flag or None, probability that the ticket needs no action) per row of the flag head's
    calibrated ``probabilities``.

    The head reads English, so the probability is multiplied by the probability that the
    text is English: a request in another language is never flagged on the strength of an
    English model. The flag is the most probable kind of no-action ticket."""
    if NO_FLAG not in labels:
        raise ValueError(f"flag head labels must include {NO_FLAG!r}, got {tuple(labels)}")
    none_column = list(labels).index(NO_FLAG)
    kinds = [j for j in range(len(labels)) if j != none_column]
    out: list[tuple[Flag | None, float]] = []
    for row, p_english in zip(np.asarray(probabilities), english, strict=True):
        probability = float(1.0 - row[none_column]) * float(p_english)
        best = max(kinds, key=lambda j: row[j])
        out.append((cast(Flag, labels[best]) if probability >= threshold else None, probability))
    return out
