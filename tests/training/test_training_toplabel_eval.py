"""Top-label (Platt) calibration after the temperature, as measured by
benchmarks/toplabel_calibration.py: the map, the rescaling that keeps the argmax, and the
nested report that never fits on the domain it scores."""

from __future__ import annotations

import numpy as np
import pytest

from ticketlens.enrichment.heads import softmax
from ticketlens.training.shift import Group
from ticketlens.training.toplabel_eval import (
    Rows,
    Variant,
    apply_top_label,
    fit_top_label,
    format_table,
    group_summary,
    nested_report,
    top_label_features,
)


def test_fit_top_label_recovers_the_map_that_made_the_outcomes() -> None:
    # GIVEN top-label logits and right/wrong outcomes drawn from sigmoid(0.6 * logit - 0.4)
    rng = np.random.default_rng(0)
    logit = rng.normal(1.5, 1.5, size=20000)
    correct = rng.random(20000) < 1 / (1 + np.exp(-(0.6 * logit - 0.4)))
    x = np.stack([logit, np.ones_like(logit)], axis=1)
    # WHEN the map is fitted with equal weights
    w = fit_top_label(x, correct, np.ones(len(logit)))
    # THEN the generating coefficients come back
    assert w[0] == pytest.approx(0.6, abs=0.05) and w[1] == pytest.approx(-0.4, abs=0.05)


def test_apply_top_label_sets_the_confidence_keeps_the_argmax_and_sums_to_one() -> None:
    # GIVEN probabilities and new top-label confidences, one so low it would demote the top label
    probs = np.array([[0.7, 0.2, 0.1], [0.4, 0.35, 0.25], [0.1, 0.8, 0.1]])
    confidence = np.array([0.5, 0.2, 0.9])
    # WHEN applied
    out, raised = apply_top_label(probs, confidence)
    # THEN rows sum to 1, the argmax is unchanged, the others keep their ratios
    np.testing.assert_allclose(out.sum(axis=1), 1.0)
    assert (out.argmax(axis=1) == probs.argmax(axis=1)).all()
    assert out[0, 0] == pytest.approx(0.5) and out[0, 1] / out[0, 2] == pytest.approx(2.0)
    assert out[2, 1] == pytest.approx(0.9)
    # AND the row whose confidence fell below its runner-up was raised to a tie, and said so
    assert raised.tolist() == [False, True, False]
    assert out[1, 0] == pytest.approx(out[1, 1])


def test_top_label_features_rejects_an_unknown_column() -> None:
    # GIVEN one row of probabilities
    probs = np.array([[0.9, 0.1]])
    # WHEN a column nobody defined is asked for, THEN it says which
    with pytest.raises(ValueError, match="bogus"):
        top_label_features(probs, np.zeros(1), np.zeros(1), ("logit", "bogus"))
    # AND the known ones are the logit of the top probability, the inputs and the constant
    x = top_label_features(probs, np.array([0.3]), np.array([0.2]), ("logit", "d", "u", "1"))
    np.testing.assert_allclose(x, [[np.log(9.0), 0.3, 0.2, 1.0]], rtol=1e-6)


def _group(rng: np.random.Generator, domain: str, sharpen: float, n: int = 3000) -> Group:
    """A left-out domain whose logits are ``sharpen`` times what its labels were drawn from."""
    z = rng.normal(scale=2.0, size=(n, 3))
    p = softmax(z).astype(np.float64)
    y = np.array([rng.choice(3, p=row / row.sum()) for row in p])
    return Group(f"lodo:{domain}", domain, z * sharpen, y, np.full(n, 0.5), np.zeros(n), np.ones(n, bool))


def test_nested_report_scores_each_domain_with_a_map_fitted_without_it() -> None:
    # GIVEN an overconfident and an underconfident left-out domain, and in-domain val rows
    rng = np.random.default_rng(1)
    groups = [_group(rng, "over", 2.0), _group(rng, "under", 0.5)]
    val_group = _group(rng, "val", 1.0, n=500)
    val = Rows(val_group.logits, val_group.labels, val_group.distance, val_group.disagreement)
    variant = Variant("single", ("logit", "1"))
    # WHEN the nested report is made
    report = nested_report(groups, 1.0, val, variant)
    # THEN each domain's map comes from the other domain alone, so they differ, and the map
    # learnt on the underconfident domain sharpens the overconfident one further (ECE rises)
    over, under = report["domains"]["over"], report["domains"]["under"]
    assert over["w"] != under["w"] and over["w"][0] > 1.0 > under["w"][0]
    alone = nested_report(groups, 1.0, val, Variant("single"))
    assert over["ece"] > alone["domains"]["over"]["ece"]
    # AND the pooled and in-domain figures cover every row once
    assert report["pooled"]["n"] == 6000 and report["in_domain_val"]["n"] == 500


def test_format_table_shows_every_variant_and_domain_and_the_figures_without_unfitted_domains() -> None:
    # GIVEN nested reports of two variants over two left-out domains, one of them never fitted on
    rng = np.random.default_rng(2)
    groups = [_group(rng, "over", 2.0, n=600), _group(rng, "under", 0.5, n=600)]
    val_group = _group(rng, "val", 1.0, n=200)
    val = Rows(val_group.logits, val_group.labels, val_group.distance, val_group.disagreement)
    variants = (Variant("single"), Variant("single", ("logit", "1")))
    reports = [nested_report(groups, 1.0, val, v, not_fitted=frozenset({"under"})) for v in variants]
    # WHEN printed as a table
    table = format_table("toy", reports, None, frozenset({"under"}))
    # THEN each variant has its row with the pooled ECE, each domain its column
    lines = table.splitlines()
    assert "over" in lines[1] and "under" in lines[1]
    for r in reports:
        row = next(line for line in lines if line.startswith(r["variant"] + " "))
        assert f"{r['pooled']['ece']:.4f}" in row and f"{r['domains']['over']['ece']:.4f}" in row
    # AND the figures without the never-fitted domain come on their own line
    assert sum(line.startswith("  without under") for line in lines) == len(reports)


def test_group_summary_gives_each_group_its_inputs_and_its_miss_under_the_shift_fit() -> None:
    # GIVEN an overconfident left-out domain with high disagreement, and a well-calibrated one
    rng = np.random.default_rng(3)
    over, fine = _group(rng, "over", 2.0, n=800), _group(rng, "fine", 1.0, n=800)
    over.disagreement = np.full(800, 0.3)
    over.distance = np.full(800, 0.7)
    # WHEN summarised
    summary = group_summary([over, fine], 1.0)
    # THEN each group reports its rows, accuracy and mean inputs
    assert summary["lodo:over"]["n"] == 800 and summary["lodo:over"]["mean_disagreement"] == pytest.approx(0.3)
    assert summary["lodo:fine"]["mean_distance"] == pytest.approx(0.5)
    acc = float(np.mean(softmax(fine.logits).argmax(axis=1) == fine.labels))
    assert summary["lodo:fine"]["accuracy"] == pytest.approx(acc, abs=1e-4)
    # AND the temperature fitted on both, which can tell them apart by u, leaves neither far off
    assert abs(summary["lodo:over"]["confidence_minus_accuracy"]) < 0.03
    assert abs(summary["lodo:fine"]["confidence_minus_accuracy"]) < 0.03
