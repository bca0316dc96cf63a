"""The no-action flag: the decision rule on top of the flag head's probabilities."""

from __future__ import annotations

import numpy as np
import pytest

from ticketlens.enrichment.flags import FLAG_THRESHOLD, no_action

LABELS = ("none", "spam", "auto_reply", "thanks")


def test_flag_is_the_likeliest_kind_once_no_action_reaches_the_threshold() -> None:
    # GIVEN the head's calibrated output for a spam, a thank-you note and a real request
    probs = np.array([[0.05, 0.9, 0.03, 0.02], [0.1, 0.05, 0.05, 0.8], [0.7, 0.2, 0.05, 0.05]])
    # WHEN the flags are decided for English texts
    out = no_action(probs, LABELS, [1.0, 1.0, 1.0])
    # THEN the first two are flagged with their kind; the request is not
    assert [flag for flag, _ in out] == ["spam", "thanks", None]
    # AND the confidence is the probability of needing no action: 1 - P(none)
    assert [round(p, 4) for _, p in out] == [0.95, 0.9, 0.3]


def test_a_ticket_in_another_language_is_not_flagged_by_an_english_model() -> None:
    # GIVEN a row the head calls spam, for a text that is surely not English
    probs = np.array([[0.1, 0.8, 0.05, 0.05]])
    # WHEN decided with P(English) = 0.2
    ((flag, probability),) = no_action(probs, LABELS, [0.2])
    # THEN the probability is scaled down below the threshold and nothing is flagged
    assert probability == pytest.approx(0.18)
    assert probability < FLAG_THRESHOLD and flag is None


def test_a_head_without_a_none_label_is_refused() -> None:
    # GIVEN a head whose labels do not include "none"
    # THEN the rule refuses it with a clear reason
    with pytest.raises(ValueError, match="none"):
        no_action(np.array([[0.5, 0.5]]), ("spam", "thanks"), [1.0])
