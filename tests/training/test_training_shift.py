"""Confidence off the training domains: leave-one-domain-out logits, the temperature set by
a deployment's traffic (the mean log disagreement of its tickets), the per-ticket
temperature the benchmarks compare it with, and the head format that carries it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ticketlens.enrichment.heads import ClassifierHead, softmax
from ticketlens.schemas import Traffic
from ticketlens.training import data as tdata
from ticketlens.training import train as ttrain
from ticketlens.training.fit import FitConfig
from ticketlens.training.shift import Group, ShiftSpec, fit_shift, fit_traffic, lodo_report

DIM = 384


def _unit(rng: np.random.Generator, n: int, centre: np.ndarray, spread: float) -> np.ndarray:
    x = centre + spread * rng.normal(size=(n, DIM))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_fit_shift_recovers_a_temperature_that_grows_with_distance() -> None:
    # GIVEN logits whose true temperature is exp(0.1 + 2 * d): labels drawn from those probabilities
    rng = np.random.default_rng(0)
    n = 6000
    z = rng.normal(scale=4.0, size=(n, 4))
    d = rng.uniform(0.2, 0.8, size=n)
    p = softmax(z / np.exp(0.1 + 2.0 * d)[:, None]).astype(np.float64)
    y = np.array([rng.choice(4, p=row / row.sum()) for row in p])
    group = Group("lodo:x", "x", z, y, d, np.zeros(n), np.ones(n, bool))
    # WHEN (a, b, c) are fitted
    a, b, c = fit_shift([group])
    # THEN the generating coefficients come back, and c stays near 0 (no disagreement signal)
    assert a == pytest.approx(0.1, abs=0.15) and b == pytest.approx(2.0, abs=0.3) and abs(c) < 1e-6


def _domain(rng: np.random.Generator, name: str, sharpen: float, level_u: float, n: int = 2000) -> Group:
    """Rows calibrated at T = ``sharpen`` once their logits are sharpened, whose members
    disagree around ``level_u``."""
    z = rng.normal(scale=3.0, size=(n, 3))
    p = softmax(z).astype(np.float64)
    y = np.array([rng.choice(3, p=row / row.sum()) for row in p])
    u = level_u * rng.lognormal(0.0, 0.5, size=n)
    return Group(f"lodo:{name}", name, z * sharpen, y, np.full(n, 0.5), u, np.ones(n, bool), np.arange(n))


def test_fit_traffic_recovers_a_temperature_that_follows_the_domains_disagreement() -> None:
    # GIVEN domains whose right temperature is exp(2 + 0.5 * their mean log disagreement)
    rng = np.random.default_rng(5)
    groups = []
    for k, level_u in enumerate((0.01, 0.03, 0.08, 0.2)):
        probe = _domain(rng, f"d{k}", 1.0, level_u)
        groups.append(_domain(rng, f"d{k}", float(np.exp(2.0 + 0.5 * probe.traffic_level)), level_u))
    # WHEN (a, b) are fitted
    a, b = fit_traffic(groups, ShiftSpec(min_domain_rows=150))
    # THEN the generating coefficients come back
    assert a == pytest.approx(2.0, abs=0.3) and b == pytest.approx(0.5, abs=0.08)


def test_a_group_too_small_to_describe_its_domain_is_not_fitted_on() -> None:
    rng = np.random.default_rng(6)
    big = [_domain(rng, "a", 2.0, 0.05), _domain(rng, "b", 0.5, 0.2)]
    tiny = _domain(rng, "tiny", 50.0, 0.01, n=100)
    spec = ShiftSpec(min_domain_rows=150)
    assert fit_traffic([*big, tiny], spec) == fit_traffic(big, spec)


def test_nested_report_never_fits_on_the_domain_it_scores() -> None:
    # GIVEN three left-out domains: one overconfident, one underconfident, one at home
    rng = np.random.default_rng(1)
    groups = [_domain(rng, "over", 2.0, 0.1), _domain(rng, "under", 0.5, 0.01), _domain(rng, "fine", 1.0, 0.03)]
    spec = ShiftSpec(min_domain_rows=150)
    # WHEN the LODO report is made
    report = lodo_report(groups, 1.0, spec)
    # THEN each domain is scored with coefficients fitted on the others only
    assert report["over"]["nested_traffic_coef"] == list(fit_traffic(groups, spec, exclude_domain="over"))
    assert report["over"]["nested_traffic_coef"] != report["under"]["nested_traffic_coef"]
    # AND the pooled figures cover every row once, at the domain's level and streamed
    assert report["pooled"]["after"]["n"] == report["pooled"]["streamed"]["n"] == 6000
    assert set(report["mean_over_domains"]) == {"before", "after", "streamed"}


def test_train_head_with_lodo_writes_a_format_3_head_that_round_trips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN three synthetic domains of a 3-label task (features stand in for embeddings)
    rng = np.random.default_rng(2)
    centres = {lab: rng.normal(size=DIM) for lab in "abc"}
    shift = {src: rng.normal(size=DIM) * 0.8 for src in ("s1", "s2", "s3")}
    examples, rows = [], []
    for src in shift:
        for lab in "abc":
            vectors = _unit(rng, 120, centres[lab] + shift[src], 1.2)
            for i, v in enumerate(vectors):
                split = "val" if i < 20 else "calib" if i < 40 else "train"
                examples.append(tdata.Example(f"{src}-{lab}-{i}", lab, src, lab, split))
                rows.append(v)
    x = np.stack(rows)
    monkeypatch.setattr(ttrain, "build_features", lambda ex, features: x[[examples.index(e) for e in ex]])
    spec = ttrain.HeadSpec(
        kind="toy", labels=("a", "b", "c"),
        fit=FitConfig(hidden=16, epochs=8, ensemble=2), shift=ShiftSpec(prototypes=64, k=3, min_domain_rows=50),
    )
    # WHEN trained with leave-one-domain-out calibration
    head, metrics = ttrain.train_head(spec, examples)
    # THEN every domain was left out once, with figures before and after, nested
    lodo = metrics["lodo"]
    assert {"s1", "s2", "s3", "pooled", "mean_over_domains", "traffic_coef", "traffic_prior"} <= set(lodo)
    assert lodo["s1"]["after"]["n"] == 360 and len(lodo["traffic_coef"]) == 2
    # AND the calibration is shipped only if it beat the single temperature on the left-out domains
    mean = lodo["mean_over_domains"]
    assert lodo["shipped"] == (mean["after"] < mean["before"])
    assert (head.traffic is not None) == lodo["shipped"] and head.members == 2
    # AND a head with the calibration (attached here if the rule kept it out) survives a save/load
    if head.traffic is None:
        from ticketlens.enrichment.heads import TrafficCalibration

        head.traffic = TrafficCalibration(*lodo["traffic_coef"], *lodo["traffic_prior"])
    path = tmp_path / "toy.npz"
    head.save(path)
    loaded = ClassifierHead.load(path)
    assert loaded.members == 2 and loaded.traffic == head.traffic
    busy = Traffic(n=500, units=-1500 * 500)  # a deployment whose members disagree a lot
    np.testing.assert_array_equal(loaded.predict_proba(x[:50], traffic=busy), head.predict_proba(x[:50], traffic=busy))
    # AND the temperature follows the traffic's level, and starts at the prior with none
    assert loaded.temperature_for(None) == loaded.temperature_for(Traffic())
    if lodo["traffic_coef"][1] != 0:
        assert loaded.temperature_for(busy) != loaded.temperature_for(Traffic())


def test_a_format_2_head_is_refused_with_what_to_do() -> None:
    arrays = {"format": np.asarray("ticketlens-head/2")}
    with pytest.raises(ValueError, match="retrain it with `ticketlens train`"):
        ClassifierHead(arrays)


def test_disagreement_is_zero_for_a_single_network_and_positive_for_differing_members() -> None:
    # GIVEN a merged two-member head whose members point opposite ways
    rng = np.random.default_rng(3)
    w0 = rng.normal(size=(DIM, 8)).astype(np.float32)
    w1 = np.zeros((8, 2), np.float32)
    w1[:4, 0], w1[4:, 1] = 1.0, 1.0  # member 0 votes "a", member 1 votes "b"
    arrays = {
        "format": np.asarray("ticketlens-head/1"), "kind": np.asarray("toy"), "labels": np.asarray(["a", "b"]),
        "features": np.asarray(["embedding"]), "feature_mean": np.zeros(DIM, np.float32),
        "feature_scale": np.ones(DIM, np.float32), "n_layers": np.asarray(2), "temperature": np.asarray(1.0),
        "W0": w0, "b0": np.zeros(8, np.float32), "W1": w1 / 2, "b1": np.zeros(2, np.float32),
    }
    head = ClassifierHead(arrays)
    x = _unit(rng, 5, np.zeros(DIM), 1.0)
    # WHEN asked as one network, then as two members
    assert (head.disagreement(x) == 0).all()
    head.members = 2
    # THEN the members' disagreement shows
    assert (head.disagreement(x) > 0).all()


def test_a_flag_head_reports_precision_recall_and_false_flags_per_group(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # GIVEN a synthetic no-action task: "none" far more common than the three flags
    rng = np.random.default_rng(4)
    labels = ("none", "spam", "auto_reply", "thanks")
    centres = {lab: rng.normal(size=DIM) for lab in labels}
    examples, rows = [], []
    for lab, count in (("none", 300), ("spam", 60), ("auto_reply", 60), ("thanks", 60)):
        for i, v in enumerate(_unit(rng, count, centres[lab], 0.8)):
            split = "val" if i % 5 == 0 else "calib" if i % 5 == 1 else "train"
            text = f"this is message number {i} of the kind {lab} for the support team"
            examples.append(tdata.Example(text, lab, "toy", lab, split))
            rows.append(v)
    x = np.stack(rows)
    monkeypatch.setattr(ttrain, "build_features", lambda ex, features: x[[examples.index(e) for e in ex]])
    spec = ttrain.HeadSpec(kind="flag", labels=labels, fit=FitConfig(hidden=16, epochs=8, ensemble=1))
    # WHEN trained and written
    head, metrics = ttrain.train_head(spec, examples)
    ttrain.write_outputs(head, metrics, tmp_path / "flag.npz")
    # THEN each validation group says how many it flagged, how many wrongly, and P/R
    pooled = metrics["val"]["pooled"]
    assert {"flagged", "false_flags", "flag_precision", "flag_recall"} <= set(pooled)
    assert pooled["flag_precision"] > 0.8 and pooled["flag_recall"] > 0.5
    assert (tmp_path / "flag.metrics.json").is_file()
