"""Surface cues of how a ticket is written, as features for the intent head.

A sentence embedding of a long GitHub issue is dominated by its topic ("the exporter",
"the Docker image") and barely sees its form: a stack trace, an issue template's "Steps to
reproduce", "would be nice", "how do I". Those forms are what separates a bug report from
a feature request from a question, so the intent head gets them as 0/1 flags beside the
embedding (+0.04 macro-F1 on GitHub issues over three seeds; docs/quality.md).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

CUE_MAX_CHARS = 4000  # the flags of a ticket's opening; bounds the cost of huge bodies

# (name, pattern); the order is the feature order, so never reorder a shipped list
CUES: tuple[tuple[str, str], ...] = (
    ("trace", r"traceback|stack ?trace|exception|segfault|panic"),
    ("error", r"\berrors?\b"),
    ("crash", r"crash|freez|hang"),
    ("fail", r"\bfail"),
    ("broken", r"broken|doesn'?t work|does not work|not working|stopped working"),
    ("reproduce", r"steps to reproduce|to reproduce|reproduc"),
    ("expected_actual", r"expected (behaviou?r|result|output)|actual (behaviou?r|result|output)"),
    ("regression", r"regression|after (upgrading|updating)|since (version|v?\d)"),
    ("bug", r"\bbug\b"),
    ("code", r"```|^\s{4}\S"),
    ("feature", r"feature request|\bfeature\b"),
    ("would_be", r"would be (nice|great|useful|good|helpful)|it would be"),
    ("add", r"\badd (a|an|the|support|option|ability)|please add|could you add|can you add"),
    ("support", r"support for|\bsupport\b"),
    ("allow", r"\ballow|\benable"),
    ("improve", r"enhancement|improve"),
    ("propose", r"propos|suggest"),
    ("feature_template", r"is your feature request related|describe the solution|alternatives"),
    ("how", r"\bhow (do|can|to|should|does)\b"),
    ("possible", r"is (it|there) (possible|a way)|is it possible"),
    ("question", r"\bquestion\b"),
    ("best_way", r"what is the (best|right|recommended|correct)|best practice"),
    ("why", r"\bwhy\b"),
    ("help", r"\bhelp\b"),
    ("docs", r"documentation|\bdocs?\b"),
    ("example", r"example"),
)
_PATTERNS = tuple(re.compile(pattern, re.IGNORECASE | re.MULTILINE) for _, pattern in CUES)
N_CUE_FEATURES = len(CUES) + 2  # the flags, then question marks and length


def cue_features(texts: Sequence[str]) -> np.ndarray:
    """(n, N_CUE_FEATURES) float32: one 0/1 flag per cue, then the number of "?" (capped at
    5, over 5) and log(1 + words) / 6."""
    out = np.zeros((len(texts), N_CUE_FEATURES), dtype=np.float32)
    for i, text in enumerate(texts):
        head = (text or "")[:CUE_MAX_CHARS]
        for j, pattern in enumerate(_PATTERNS):
            if pattern.search(head):
                out[i, j] = 1.0
        out[i, -2] = min(head.count("?"), 5) / 5
        out[i, -1] = np.log1p(len(head.split())) / 6
    return out
