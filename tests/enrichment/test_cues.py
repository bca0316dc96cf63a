"""The written-form cues the intent head reads beside the embedding."""

from __future__ import annotations

import numpy as np
import pytest

from ticketlens.enrichment.cues import CUES, N_CUE_FEATURES, cue_features
from ticketlens.enrichment.heads import load_head

NAMES = [name for name, _ in CUES]


def _flags(text: str) -> set[str]:
    row = cue_features([text])[0]
    return {name for name, value in zip(NAMES, row[: len(NAMES)], strict=True) if value == 1.0}


def test_an_issue_template_bug_report_raises_the_bug_cues() -> None:
    # GIVEN a bug report written in a GitHub issue template, with a stack trace
    text = (
        "Exporter crashes on empty input\n**Steps to reproduce**\n1. run `export --all`\n"
        "**Expected behavior** no crash\n```\nTraceback (most recent call last):\nKeyError: 'a'\n```"
    )
    # THEN the trace, crash, reproduce, expected/actual and code cues are on, the feature ones off
    assert {"trace", "crash", "reproduce", "expected_actual", "code"} <= _flags(text)
    assert not {"would_be", "feature_template", "how"} & _flags(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("It would be nice to add an option for dark mode", {"would_be", "add"}),
        ("How do I configure the proxy? Is there a way to set it per project?", {"how", "possible"}),
    ],
)
def test_requests_and_questions_raise_their_own_cues(text: str, expected: set[str]) -> None:
    assert expected <= _flags(text)


def test_counts_are_bounded_and_shape_is_fixed() -> None:
    # GIVEN an empty text and one with many question marks
    rows = cue_features(["", "why? " * 40])
    # THEN every row has the same width, values stay in [0, 1], and "?" saturates at 1
    assert rows.shape == (2, N_CUE_FEATURES) and rows.dtype == np.float32
    assert rows.min() >= 0.0 and rows.max() <= 1.0 and rows[1, -2] == 1.0 and not rows[0].any()


def test_the_shipped_intent_head_reads_cues_and_needs_the_text() -> None:
    # GIVEN the shipped intent head
    head = load_head("default", "intent")
    # THEN it reads the cues, and refuses embeddings without their texts
    assert head.features == ("embedding", "cues") and head.needs_text
    with pytest.raises(ValueError, match="needs the texts"):
        head.predict_proba(np.zeros((1, 384), dtype=np.float32))
