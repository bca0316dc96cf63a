"""The limits of calibration fitted without a domain (benchmarks/calibration_limits.py): the
generic log-temperature fit, the kNN label agreement, the nested and oracle reports."""

from __future__ import annotations

import numpy as np
import pytest

from ticketlens.enrichment.heads import softmax
from ticketlens.training.calibration_limits import (
    Calibration,
    fixed_report,
    format_table,
    knn_agreement,
    nested_report,
    no_inputs,
    oracle_report,
    predicted_label_inputs,
)
from ticketlens.training.shift import Group, fit_log_temperature, fit_shift, shift_inputs


def _group(name: str, rng: np.random.Generator, sharpen: float, n: int = 3000, in_domain: bool = False) -> Group:
    """Labels drawn from softmax(z): calibrated at T = ``sharpen`` once the logits are z * sharpen."""
    z = rng.normal(scale=3.0, size=(n, 4))
    p = softmax(z).astype(np.float64)
    y = np.array([rng.choice(4, p=row / row.sum()) for row in p])
    prefix = "in" if in_domain else "lodo"
    return Group(f"{prefix}:{name}", name, z * sharpen, y, rng.uniform(0.2, 0.8, n), rng.uniform(0, 0.1, n),
                 np.ones(n, bool), np.arange(n))


def test_the_generic_fit_gives_the_shipped_coefficients_bit_for_bit() -> None:
    # GIVEN calibration groups with distance and disagreement
    rng = np.random.default_rng(0)
    groups = [_group("a", rng, 2.0), _group("b", rng, 0.7), _group("c", rng, 1.0, in_domain=True)]
    # WHEN the shipped fit and the generic fit on the same inputs run, nested or not
    for exclude in (None, "a"):
        theta = fit_log_temperature(groups, shift_inputs, exclude_domain=exclude, start=0.1)
        # THEN they agree exactly (fit_shift only rounds)
        assert fit_shift(groups, exclude_domain=exclude, start=0.1) == tuple(round(float(t), 4) for t in theta)


def test_knn_agreement_counts_the_neighbours_that_share_the_prediction() -> None:
    # GIVEN prototypes in two tight clusters, labelled 0 and 1
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(2, 384))
    protos = np.concatenate([centres[0] + 0.01 * rng.normal(size=(10, 384)),
                             centres[1] + 0.01 * rng.normal(size=(10, 384))])
    labels = np.array([0] * 10 + [1] * 10)
    rows = np.stack([centres[0], centres[1], centres[0]])
    # WHEN rows near cluster 0, 1, 0 are predicted 0, 1 and 1
    agree = knn_agreement(rows, np.array([0, 1, 1]), protos, labels, k=10)
    # THEN the first two agree fully with their neighbours and the third not at all
    assert agree.tolist() == [1.0, 1.0, 0.0]


def test_oracle_temperature_finds_each_domains_own_sharpening() -> None:
    # GIVEN two left-out domains, one twice too sharp, one half too sharp
    rng = np.random.default_rng(2)
    groups = [_group("over", rng, 2.0), _group("under", rng, 0.5), _group("home", rng, 1.0, in_domain=True)]
    # WHEN the oracle report is made
    report = oracle_report(groups)
    # THEN each domain gets back the temperature that undoes its sharpening, and is calibrated
    assert report["domains"]["over"]["temperature"] == pytest.approx(2.0, rel=0.15)
    assert report["domains"]["under"]["temperature"] == pytest.approx(0.5, rel=0.15)
    assert report["pooled"]["ece"] < 0.03 and report["pooled"]["n"] == 6000
    assert "home" not in report["domains"]


def test_a_nested_constant_temperature_cannot_serve_opposite_domains() -> None:
    # GIVEN two left-out domains with opposite needs and an in-domain group at home
    rng = np.random.default_rng(3)
    groups = [_group("over", rng, 2.0), _group("under", rng, 0.5), _group("home", rng, 1.0, in_domain=True)]
    val = [_group("val", rng, 1.0, n=1000)]
    # WHEN a constant temperature is fitted nested (each domain scored by a fit without it)
    nested = nested_report(groups, val, Calibration("constant", no_inputs), start=0.0)
    oracle = oracle_report(groups)
    # THEN each domain is worse than at its own oracle temperature: the fit never saw it
    for domain in ("over", "under"):
        assert nested["domains"][domain]["ece"] > oracle["domains"][domain]["ece"] + 0.05
    # AND over-confident stays over-confident, under stays under
    assert nested["domains"]["over"]["confidence_minus_accuracy"] > 0.05
    assert nested["domains"]["under"]["confidence_minus_accuracy"] < -0.05
    # AND the shipped-style figures are all there, one row per left-out domain
    assert nested["pooled"]["n"] == 6000 and len(nested["theta"]) == 1 and "in_domain_val" in nested


def test_fixed_report_and_table_cover_every_left_out_domain() -> None:
    rng = np.random.default_rng(4)
    groups = [_group("a", rng, 1.5), _group("b", rng, 1.0)]
    val = [_group("val", rng, 1.0, n=500)]
    reports = [fixed_report(groups, val, 1.5), oracle_report(groups)]
    table = format_table("toy", reports)
    assert "one T (1.50)" in table and "oracle" in table and table.count("\n") == 3
    # the first domain was sharpened by 1.5: one T of 1.5 calibrates it
    assert reports[0]["domains"]["a"]["ece"] < 0.03


def test_predicted_label_inputs_are_one_indicator_per_label_but_the_first() -> None:
    group = Group("lodo:x", "x", np.array([[3.0, 0, 0], [0, 2.0, 0], [0, 0, 1.0]]), np.zeros(3, int),
                  np.zeros(3), np.zeros(3), np.ones(3, bool))
    assert predicted_label_inputs(3)(group).tolist() == [[0, 0], [1, 0], [0, 1]]
