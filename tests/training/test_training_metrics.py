"""Metrics and calibration on hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from ticketlens.training.fit import fit_temperature
from ticketlens.training.metrics import (
    accuracy,
    ece_noise_floor,
    expected_calibration_error,
    macro_f1,
    per_class_f1,
    reliability_bins,
)


def test_accuracy_and_f1_match_hand_computed_values() -> None:
    # GIVEN 6 predictions: a is right 2/3 (one a predicted as b), b once wrongly predicted c
    truth = ["a", "a", "a", "b", "b", "c"]
    pred = ["a", "a", "b", "b", "c", "c"]
    # WHEN scored
    f1 = per_class_f1(truth, pred)
    # THEN a: tp2 fp0 fn1 -> 4/5; b: tp1 fp1 fn1 -> 1/2; c: tp1 fp1 fn0 -> 2/3
    assert accuracy(truth, pred) == pytest.approx(4 / 6)
    assert f1 == pytest.approx({"a": 0.8, "b": 0.5, "c": 2 / 3})
    assert macro_f1(truth, pred) == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)


def test_f1_of_label_never_true_is_not_averaged_but_costs_recall() -> None:
    # GIVEN a gold set with only "x", one row predicted as an unrelated label "y"
    truth, pred = ["x", "x"], ["x", "y"]
    # WHEN macro-F1 is taken over the gold labels
    # THEN x: tp1 fp0 fn1 -> 2/3, and y is not part of the average
    assert macro_f1(truth, pred) == pytest.approx(2 / 3)


def test_ece_matches_hand_computed_value() -> None:
    # GIVEN four rows: two at confidence 0.9 (one right), two at 0.6 (both right)
    probs = np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.4, 0.6]])
    truth = np.array([0, 1, 0, 1])
    # WHEN the 15-bin top-label ECE is computed
    ece = expected_calibration_error(probs, truth)
    # THEN bin(0.9): |0.5-0.9|=0.4, bin(0.6): |1.0-0.6|=0.4, each half the rows -> 0.4
    assert ece == pytest.approx(0.4)


def test_ece_is_zero_when_confidence_equals_accuracy() -> None:
    # GIVEN 10 rows at confidence 0.8 of which exactly 8 are right
    probs = np.tile([0.8, 0.2], (10, 1))
    truth = np.array([0] * 8 + [1] * 2)
    # THEN ECE is 0
    assert expected_calibration_error(probs, truth) == pytest.approx(0.0)


def test_ece_noise_floor_shrinks_with_rows_and_vanishes_for_certain_rows() -> None:
    # GIVEN confidences spread over 0.5-1.0 for 80 rows and for 8,000 rows
    rng = np.random.default_rng(1)
    small, large = rng.uniform(0.5, 1.0, 80), rng.uniform(0.5, 1.0, 8000)
    # WHEN the chance ECE of a perfectly calibrated head is estimated on each
    floor_small, p95_small = ece_noise_floor(small)
    floor_large, _ = ece_noise_floor(large)
    # THEN 80 rows carry a sizeable chance ECE, 8,000 rows almost none, and p95 lies above the mean
    assert 0.04 < floor_small < 0.15 and p95_small > floor_small
    assert floor_large < 0.02
    # AND rows at confidence 1.0 are always right, so their chance ECE is 0
    assert ece_noise_floor(np.ones(50)) == (0.0, 0.0)


def test_reliability_bins_are_right_closed() -> None:
    # GIVEN confidences on bin edges (15 bins): 1/15 belongs to the first bin, 1.0 to the last
    counts, _, _ = reliability_bins(np.array([1 / 15, 1.0, 0.0]), np.array([1, 1, 0]))
    # THEN the first bin holds 1/15 and 0.0, the last holds 1.0
    assert counts[0] == 2 and counts[14] == 1 and counts.sum() == 3


def test_temperature_recovers_overconfidence() -> None:
    # GIVEN logits whose true calibrated temperature is 3 (labels drawn from softmax(z/3))
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=6.0, size=(4000, 4))
    p = np.exp(logits / 3) / np.exp(logits / 3).sum(axis=1, keepdims=True)
    labels = np.array([rng.choice(4, p=row) for row in p])
    # WHEN a temperature is fitted by NLL
    t = fit_temperature(logits, labels)
    # THEN it lands near 3
    assert t == pytest.approx(3.0, rel=0.1)
