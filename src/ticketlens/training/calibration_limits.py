"""How far a calibration fitted without a domain can go on that domain (issue 11's target:
leave-one-domain-out ECE ≤ 0.05), and what the sentiment head's one unforeseeable domain is
worth to it. Measured and written up in docs/quality.md; nothing here ships.

    .venv/bin/python benchmarks/calibration_limits.py --head intent
    .venv/bin/python benchmarks/calibration_limits.py --head sentiment
    .venv/bin/python benchmarks/calibration_limits.py --head sentiment --drop-source tweeteval --seeds 0 1 2

The first two fit the head and its left-out heads exactly as ``ticketlens train`` does, then
score temperature calibrations on the same nested protocol as the shipped one
(training/shift.py), next to the *oracle*: each left-out domain's own best temperature,
fitted on that domain's rows. No calibration of the temperature family fitted without a
domain can beat its oracle there, so the oracle says how much of the gap any such input
could close. The third trains the head with and without one training source (its rows then
only scored) and prints the sets no head ever trains on: does the source pay for itself?
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ticketlens.enrichment.heads import softmax
from ticketlens.training.fit import fit_temperature
from ticketlens.training.metrics import expected_calibration_error
from ticketlens.training.shift import Group, Inputs, distances, fit_log_temperature, shift_inputs, traffic_inputs

EMBED_DIM = 384
KNN = 10  # neighbours whose labels are compared with the prediction
# in-domain calib groups smaller than this are left out of the "big in-domain groups only" fit
SMALL_GROUP_ROWS = 200


def knn_agreement(
    embeddings: np.ndarray, predicted: np.ndarray, prototypes: np.ndarray, prototype_labels: np.ndarray,
    k: int = KNN,
) -> np.ndarray:
    """The share of each row's ``k`` nearest prototypes (cosine) whose label is the row's
    ``predicted`` one: a second, structurally different classifier's vote on the head's."""
    x = np.asarray(embeddings, dtype=np.float32)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    m = np.asarray(prototypes, dtype=np.float32)
    m = m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)
    k = max(1, min(k, len(m)))
    out = np.empty(len(x))
    for start in range(0, len(x), 2048):
        sims = x[start : start + 2048] @ m.T
        nearest = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        out[start : start + 2048] = (prototype_labels[nearest] == predicted[start : start + 2048, None]).mean(axis=1)
    return out


def predicted_label_inputs(n_labels: int) -> Inputs:
    """One indicator per predicted label but the first: a temperature per predicted label."""

    def inputs(group: Group) -> np.ndarray:
        indicators: np.ndarray = np.eye(n_labels)[group.logits.argmax(axis=1)][:, 1:]
        return indicators

    return inputs


@dataclass(frozen=True)
class Calibration:
    """A temperature calibration scored on the nested protocol: log T = theta · [1, inputs];
    ``fit_on`` picks the groups it may be fitted on (every group: None)."""

    name: str
    inputs: Inputs
    fit_on: Callable[[Group], bool] | None = None


def no_inputs(group: Group) -> np.ndarray:
    return np.zeros((len(group.labels), 0))


def _probs(group: Group, inputs: Inputs, theta: np.ndarray) -> np.ndarray:
    x = np.column_stack([np.ones(len(group.labels)), inputs(group)])
    return softmax(group.logits / np.exp(np.clip(x @ theta, -5.0, 5.0))[:, None])


def _figures(probs: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    confidence = probs.max(axis=1)
    accuracy = float(np.mean(probs.argmax(axis=1) == labels))
    return {
        "n": len(labels),
        "ece": round(expected_calibration_error(probs, labels), 4),
        "confidence_minus_accuracy": round(float(confidence.mean()) - accuracy, 4),
    }


def _pooled(report: dict[str, Any], probs: list[np.ndarray], labels: list[np.ndarray]) -> dict[str, Any]:
    report["pooled"] = _figures(np.concatenate(probs), np.concatenate(labels))
    report["mean_over_domains"] = round(float(np.mean([d["ece"] for d in report["domains"].values()])), 4)
    return report


def _pooled_val(val: Sequence[Group], probs: Callable[[Group], np.ndarray]) -> dict[str, float]:
    return _figures(np.concatenate([probs(g) for g in val]), np.concatenate([g.labels for g in val]))


def nested_report(
    groups: Sequence[Group], val: Sequence[Group], calibration: Calibration, start: float
) -> dict[str, Any]:
    """ECE on each left-out domain with ``calibration`` fitted without it, pooled, the mean
    over domains, and on the in-domain ``val`` rows, one group per source (fitted on
    everything, as it would ship)."""
    usable = [g for g in groups if calibration.fit_on is None or calibration.fit_on(g)]
    report: dict[str, Any] = {"calibration": calibration.name, "domains": {}}
    probs, labels = [], []
    for g in groups:
        if not g.name.startswith("lodo:"):
            continue
        theta = fit_log_temperature(usable, calibration.inputs, exclude_domain=g.domain, start=start)
        p = _probs(g, calibration.inputs, theta)
        report["domains"][g.domain] = _figures(p, g.labels)
        probs.append(p)
        labels.append(g.labels)
    theta = fit_log_temperature(usable, calibration.inputs, start=start)
    report["theta"] = np.round(theta, 4).tolist()
    report["in_domain_val"] = _pooled_val(val, lambda g: _probs(g, calibration.inputs, theta))
    return _pooled(report, probs, labels)


def fixed_report(groups: Sequence[Group], val: Sequence[Group], temperature: float) -> dict[str, Any]:
    """The same figures for one temperature fitted on the in-domain calib split (no LODO)."""
    report: dict[str, Any] = {"calibration": f"one T ({temperature:.2f}) from the in-domain calib split",
                              "domains": {}}
    probs, labels = [], []
    for g in groups:
        if g.name.startswith("lodo:"):
            p = softmax(g.logits / temperature)
            report["domains"][g.domain] = _figures(p, g.labels)
            probs.append(p)
            labels.append(g.labels)
    report["in_domain_val"] = _pooled_val(val, lambda g: softmax(g.logits / temperature))
    return _pooled(report, probs, labels)


def oracle_report(groups: Sequence[Group]) -> dict[str, Any]:
    """Each left-out domain at its own best temperature, fitted on all of its rows: the
    lowest ECE a temperature of any input can give it, short of ranking rows within it."""
    report: dict[str, Any] = {"calibration": "oracle: each left-out domain's own best T", "domains": {}}
    probs, labels = [], []
    for g in groups:
        if g.name.startswith("lodo:"):
            t = fit_temperature(g.logits, g.labels)
            p = softmax(g.logits / t)
            report["domains"][g.domain] = {**_figures(p, g.labels), "temperature": round(t, 3)}
            probs.append(p)
            labels.append(g.labels)
    return _pooled(report, probs, labels)


def calibrations(agreement: dict[str, np.ndarray], n_labels: int, min_domain_rows: int) -> list[Calibration]:
    """The temperature calibrations compared: ``agreement`` holds each group's kNN agreement."""
    per_label = predicted_label_inputs(n_labels)

    def describes_a_domain(g: Group) -> bool:
        return len(g.labels) >= min_domain_rows

    def with_agreement(g: Group) -> np.ndarray:
        return np.column_stack([shift_inputs(g), agreement[g.name]])

    def shift_and_label(g: Group) -> np.ndarray:
        return np.column_stack([shift_inputs(g), per_label(g)])

    def big_in_domain(g: Group) -> bool:
        return not g.name.startswith("in:") or len(g.labels) >= SMALL_GROUP_ROWS

    return [
        Calibration("traffic: the domain's mean log disagreement", traffic_inputs, describes_a_domain),
        Calibration("shift: distance, disagreement (per ticket)", shift_inputs),
        Calibration("constant T, fitted nested", no_inputs),
        Calibration(f"constant T, in-domain groups < {SMALL_GROUP_ROWS} rows left out", no_inputs, big_in_domain),
        Calibration(f"shift, in-domain groups < {SMALL_GROUP_ROWS} rows left out", shift_inputs, big_in_domain),
        Calibration(f"shift + kNN label agreement (k={KNN})", with_agreement),
        Calibration("one T per predicted label", per_label),
        Calibration("shift + one T per predicted label", shift_and_label),
    ]


def format_table(head: str, reports: Sequence[dict[str, Any]]) -> str:
    names = list(reports[0]["domains"])
    lines = [
        f"{head}: nested leave-one-domain-out ECE (15 bins, top label); val = in-domain validation split",
        f"{'calibration':52}{'pooled':>8}{'mean':>7}{'val':>7}  " + " ".join(f"{n[:14]:>14}" for n in names),
    ]
    for r in reports:
        val = f"{r['in_domain_val']['ece']:>7.4f}" if "in_domain_val" in r else f"{'-':>7}"
        lines.append(f"{r['calibration'][:52]:52}{r['pooled']['ece']:>8.4f}{r['mean_over_domains']:>7.4f}{val}  "
                     + " ".join(f"{r['domains'][n]['ece']:>14.4f}" for n in names))
    return "\n".join(lines)


def limits(head: str, seed: int, data_dir: str | None) -> dict[str, Any]:
    from ticketlens.training import data as tdata
    from ticketlens.training import train as ttrain

    spec = ttrain.INTENT_SPEC if head == "intent" else ttrain.SENTIMENT_SPEC
    spec = replace(spec, fit=replace(spec.fit, seed=seed))
    assert spec.shift is not None
    examples = ttrain.default_examples(head, tdata.find_data_dir(data_dir), seed)
    x = ttrain.build_features(examples, spec.features)
    fitted = ttrain.fit_head(spec, examples, x)
    if fitted.prototypes is None:
        raise SystemExit("no leave-one-domain-out material (calib split too small)")
    embeddings = x[:, :EMBED_DIM]
    sources = np.asarray([e.source for e in examples])
    va = np.flatnonzero(np.asarray([e.split for e in examples]) == "val")
    val_distance = distances(embeddings[va], fitted.prototypes, spec.shift.k)
    val_disagreement = fitted.head.disagreement(x[va])
    val = []  # one group per source: each is one deployment's traffic
    for source in sorted(set(sources[va].tolist())):
        keep = sources[va] == source
        rows = va[keep]
        val.append(Group(f"val:{source}", source, fitted.raw[rows], fitted.labels[rows], val_distance[keep],
                         val_disagreement[keep], np.zeros(len(rows), bool), rows))
    proto_rows = fitted.prototype_rows
    assert proto_rows is not None
    agreement = {}
    for g in [*fitted.groups, *val]:
        assert g.rows is not None
        keep = sources[proto_rows] != g.domain if g.name.startswith("lodo:") else np.ones(len(proto_rows), bool)
        agreement[g.name] = knn_agreement(embeddings[g.rows], g.logits.argmax(axis=1),
                                          fitted.prototypes[keep], fitted.labels[proto_rows][keep])
    start = float(np.log(fitted.head.temperature))
    reports = [fixed_report(fitted.groups, val, fitted.head.temperature)]
    reports += [nested_report(fitted.groups, val, c, start)
                for c in calibrations(agreement, len(spec.labels), spec.shift.min_domain_rows)]
    reports.append(oracle_report(fitted.groups))
    return {"head": head, "seed": seed, "reports": reports}


def source_ablation(head: str, source: str, seeds: Sequence[int], data_dir: str | None) -> list[dict[str, Any]]:
    """The head trained with and without ``source`` (its rows then only scored, in the val
    split): validation figures per group, one temperature (no LODO: the question is the
    labels, not the calibration)."""
    from ticketlens.training import data as tdata
    from ticketlens.training import train as ttrain

    base = ttrain.INTENT_SPEC if head == "intent" else ttrain.SENTIMENT_SPEC
    out = []
    for seed in seeds:
        examples = ttrain.default_examples(head, tdata.find_data_dir(data_dir), seed)
        if source not in {e.source for e in examples}:
            raise SystemExit(f"no training source {source!r} in the {head} data")
        for dropped in (False, True):
            spec = replace(base, shift=None, fit=replace(base.fit, seed=seed))
            rows = examples
            if dropped:
                rows = [replace(e, split="val") if e.source == source else e
                        for e in examples if not (e.source == source and e.split == "train")]
                spec = replace(spec, source_weights={k: v for k, v in spec.source_weights.items() if k != source})
            _, metrics = ttrain.train_head(spec, rows)
            figures = {name: {k: r[k] for k in ("n", "accuracy", "macro_f1", "ece")}
                       for name, r in metrics["val"].items() if isinstance(r, dict) and "macro_f1" in r}
            out.append({"seed": seed, "without": source if dropped else None, "val": figures})
    return out


def format_ablation(rows: Sequence[dict[str, Any]], source: str) -> str:
    groups = [g for g in rows[0]["val"] if g != source and g != "pooled"] + [source]
    lines = [f"validation figures with / without {source} in training (without: its rows only scored)",
             f"{'group':20}{'seed':>5}  {'macro F1 with → without':>24}  {'accuracy':>15}  {'ECE':>15}"]
    for g in groups:
        for seed in sorted({r["seed"] for r in rows}):
            a, b = (next(r for r in rows if r["seed"] == seed and (r["without"] is not None) == dropped)["val"].get(g)
                    for dropped in (False, True))
            if a is None or b is None:
                continue
            lines.append(f"{g[:20]:20}{seed:>5}  {a['macro_f1']:>11.3f} → {b['macro_f1']:<10.3f}"
                         f"  {a['accuracy']:.3f} → {b['accuracy']:.3f}  {a['ece']:.3f} → {b['ece']:.3f}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--head", choices=("intent", "sentiment"), default="intent")
    parser.add_argument("--data-dir",
                        help="shared datasets folder (default: $TICKETLENS_DATASETS or ../shared/datasets)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--drop-source", help="train with and without this source instead (its rows only scored)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.drop_source:
        rows = source_ablation(args.head, args.drop_source, args.seeds, args.data_dir)
        print(json.dumps(rows, indent=1) if args.json else format_ablation(rows, args.drop_source))
        return 0
    for seed in args.seeds:
        result = limits(args.head, seed, args.data_dir)
        print(json.dumps(result, indent=1) if args.json else format_table(f"{args.head}, seed {seed}",
                                                                           result["reports"]))
    return 0
