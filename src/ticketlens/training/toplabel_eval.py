"""Top-label (Platt) calibration after the temperature, measured the nested leave-one-domain-out
way (issue 11). Tried, not shipped: docs/quality.md says why.

The reported confidence becomes ``sigmoid(w · [logit(p_top), u, d, 1])`` (Platt scaling of
the top label, Gupta & Ramdas 2021), with ``p_top`` the top probability under the shipped
temperature (single or shift), ``u`` the members' disagreement and ``d`` the distance from
the training data. ``w`` is fitted by binary cross-entropy of "the top label is right" on
the groups the shift temperature is fitted on (training/shift.py), every group the same
weight; the other classes are rescaled so each row still sums to 1 and its argmax stays.
The calibration that scores a left-out domain is fitted without any row of that domain.

    .venv/bin/python benchmarks/toplabel_calibration.py --head intent
    .venv/bin/python benchmarks/toplabel_calibration.py --head intent --source-views drop
    .venv/bin/python benchmarks/toplabel_calibration.py --head sentiment --json

``--source-views`` refits every head (the full one and each left-out one) with that
``FitConfig.source_views`` (training/fit.py) instead of the spec's, as a retrain would.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, get_args

import numpy as np

from ticketlens.enrichment.heads import softmax
from ticketlens.training.fit import SourceViews
from ticketlens.training.metrics import classification_report, expected_calibration_error
from ticketlens.training.shift import Group, fit_shift

EMBED_DIM = 384
Base = Literal["single", "shift"]


@dataclass(frozen=True)
class Variant:
    """How a row's confidence is made: the temperature (``single`` or ``shift``), then a
    top-label map on ``features`` (none: the temperature alone)."""

    base: Base
    features: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.base + (" + top-label[" + ", ".join(self.features) + "]" if self.features else "")


VARIANTS = (
    Variant("single"),
    Variant("shift"),
    Variant("single", ("logit", "1")),
    Variant("shift", ("logit", "1")),
    Variant("shift", ("logit", "u", "d", "1")),
    Variant("single", ("logit", "u", "d", "1")),
    Variant("shift", ("logit", "u", "d", "logit*u", "logit*d", "1")),
)


@dataclass(frozen=True)
class Rows:
    """Rows scored by the full head (the in-domain val split)."""

    logits: np.ndarray
    labels: np.ndarray
    distance: np.ndarray
    disagreement: np.ndarray


def top_label_features(
    probs: np.ndarray, distance: np.ndarray, disagreement: np.ndarray, features: Sequence[str]
) -> np.ndarray:
    """The top-label map's inputs, (n, len(features))."""
    top = np.clip(probs.max(axis=1).astype(np.float64), 1e-6, 1 - 1e-6)
    logit = np.log(top / (1 - top))
    columns = {
        "logit": logit, "u": disagreement, "d": distance, "logit*u": logit * disagreement,
        "logit*d": logit * distance, "1": np.ones(len(top)),
    }
    unknown = set(features) - set(columns)
    if unknown:
        raise ValueError(f"unknown top-label features {sorted(unknown)}")
    return np.stack([np.asarray(columns[f], dtype=np.float64) for f in features], axis=1)


def fit_top_label(x: np.ndarray, correct: np.ndarray, weight: np.ndarray, l2: float = 1e-4) -> np.ndarray:
    """``w`` minimising the weighted binary cross-entropy of sigmoid(x @ w) against ``correct``
    (plus a tiny ridge so separable rows stay finite): Newton's method, halving steps."""
    w = weight / weight.sum()
    y = correct.astype(np.float64)

    def loss(theta: np.ndarray) -> float:
        z = x @ theta
        return float(w @ (np.logaddexp(0.0, z) - y * z) + 0.5 * l2 * theta @ theta)

    theta = np.zeros(x.shape[1])
    current = loss(theta)
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(x @ theta)))
        grad = x.T @ (w * (p - y)) + l2 * theta
        hessian = (x * (w * p * (1 - p))[:, None]).T @ x + l2 * np.eye(len(theta))
        step = np.linalg.solve(hessian, grad)
        scale = 1.0
        while scale > 1e-8 and loss(theta - scale * step) > current:
            scale /= 2
        theta = theta - scale * step
        new = loss(theta)
        if current - new < 1e-12:
            break
        current = new
    return theta


def apply_top_label(probs: np.ndarray, confidence: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``probs`` with each row's top probability set to ``confidence`` and the others rescaled
    to fill the rest, and a mask of the rows where the confidence was raised just above the
    runner-up's rescaled probability, so that the top label stays on top."""
    p = np.asarray(probs, dtype=np.float64)
    ordered = np.sort(p, axis=1)
    top, second = ordered[:, -1], ordered[:, -2]
    # c > second * (1 - c) / (1 - top)  <=>  c > second / (1 - top + second)
    floor = np.minimum(second / np.maximum(1 - top + second, 1e-12) + 1e-9, 1.0)
    raised = confidence < floor
    c = np.where(raised, floor, confidence)
    out = p * ((1 - c) / np.maximum(1 - top, 1e-12))[:, None]
    out[np.arange(len(p)), p.argmax(axis=1)] = c
    return out, raised


def _base_probs(
    logits: np.ndarray, distance: np.ndarray, disagreement: np.ndarray, base: Base, temperature: float,
    coef: Sequence[float],
) -> np.ndarray:
    """Probabilities under the single temperature or the shift one, as the head computes them."""
    if base == "single":
        return softmax(logits / temperature)
    return softmax(logits / np.exp(coef[0] + coef[1] * distance + coef[2] * disagreement)[:, None])


def _fit_for(
    groups: Sequence[Group], exclude: str | None, variant: Variant, temperature: float, coef: Sequence[float],
    in_domain_share: float | None,
) -> np.ndarray:
    """The top-label map fitted on every group's fitting rows outside ``exclude``'s domain.

    Every group weighs the same, as in the shift fit; with ``in_domain_share`` the in-domain
    calib rows instead weigh that share in all, each row the same."""
    xs, ys, ws, inside = [], [], [], []
    for g in groups:
        keep = g.for_fitting & (g.domain != exclude)
        if not keep.any():
            continue
        probs = _base_probs(g.logits[keep], g.distance[keep], g.disagreement[keep], variant.base, temperature, coef)
        xs.append(top_label_features(probs, g.distance[keep], g.disagreement[keep], variant.features))
        ys.append(probs.argmax(axis=1) == g.labels[keep])
        ws.append(np.full(int(keep.sum()), 1.0 / keep.sum()))
        inside.append(g.name.startswith("in:"))
    if in_domain_share is not None:
        n_in = sum(len(w) for w, i in zip(ws, inside, strict=True) if i)
        n_out = sum(1 for i in inside if not i)
        for k, i in enumerate(inside):
            if i:
                ws[k] = np.full(len(ws[k]), in_domain_share / (1 - in_domain_share) * n_out / n_in)
    return fit_top_label(np.concatenate(xs), np.concatenate(ys), np.concatenate(ws))


def _calibrated(
    logits: np.ndarray, distance: np.ndarray, disagreement: np.ndarray, variant: Variant, temperature: float,
    coef: Sequence[float], w: np.ndarray | None,
) -> tuple[np.ndarray, int]:
    probs = _base_probs(logits, distance, disagreement, variant.base, temperature, coef)
    if w is None:
        return probs, 0
    x = top_label_features(probs, distance, disagreement, variant.features)
    out, raised = apply_top_label(probs, 1.0 / (1.0 + np.exp(-(x @ w))))
    return out, int(raised.sum())


def _figures(probs: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    gap = probs.max(axis=1).mean() - np.mean(probs.argmax(axis=1) == labels)
    return {
        "n": len(labels),
        "ece": round(expected_calibration_error(probs, labels), 4),
        "confidence_minus_accuracy": round(float(gap), 4),
    }


def nested_report(
    groups: Sequence[Group], temperature: float, val: Rows, variant: Variant, in_domain_share: float | None = None,
    not_fitted: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """ECE of ``variant`` on each left-out domain (calibration fitted without that domain),
    pooled, mean over domains (also without the ``not_fitted`` ones) and on the in-domain
    ``val`` rows (calibration fitted on everything, as a shipped head would be)."""
    report: dict[str, Any] = {"variant": variant.name, "domains": {}}
    start = float(np.log(temperature))
    pooled_probs, pooled_labels, raised = [], [], 0
    for g in groups:
        if not g.name.startswith("lodo:"):
            continue
        coef = fit_shift(groups, exclude_domain=g.domain, start=start)
        w = _fit_for(groups, g.domain, variant, temperature, coef, in_domain_share) if variant.features else None
        probs, n_raised = _calibrated(g.logits, g.distance, g.disagreement, variant, temperature, coef, w)
        report["domains"][g.domain] = {**_figures(probs, g.labels), "w": None if w is None else np.round(w, 4).tolist()}
        pooled_probs.append(probs)
        pooled_labels.append(g.labels)
        raised += n_raised
    domains = report["domains"]
    report["pooled"] = _figures(np.concatenate(pooled_probs), np.concatenate(pooled_labels))
    report["mean_over_domains"] = round(float(np.mean([d["ece"] for d in domains.values()])), 4)
    kept = [i for i, name in enumerate(domains) if name not in not_fitted]
    if len(kept) < len(domains):
        report["pooled_without_not_fitted"] = _figures(
            np.concatenate([pooled_probs[i] for i in kept]), np.concatenate([pooled_labels[i] for i in kept])
        )
        report["mean_without_not_fitted"] = round(float(np.mean([d["ece"] for n, d in domains.items()
                                                                  if n not in not_fitted])), 4)
    report["rows_raised_to_keep_argmax"] = raised
    coef = fit_shift(groups, start=start)
    w = _fit_for(groups, None, variant, temperature, coef, in_domain_share) if variant.features else None
    probs, _ = _calibrated(val.logits, val.distance, val.disagreement, variant, temperature, coef, w)
    report["in_domain_val"] = _figures(probs, val.labels)
    return report


def group_summary(groups: Sequence[Group], temperature: float) -> dict[str, dict[str, float]]:
    """Per calibration group: rows, accuracy, mean distance and disagreement, and confidence
    minus accuracy under the shift calibration fitted on every group (what the inputs must
    tell apart: ``in:`` groups the head trained on, ``lodo:`` groups it did not)."""
    coef = fit_shift(groups, start=float(np.log(temperature)))
    out = {}
    for g in groups:
        probs = softmax(g.logits / np.exp(g.log_temperature(coef))[:, None])
        out[g.name] = {
            "n": len(g.labels),
            "accuracy": round(float(np.mean(probs.argmax(axis=1) == g.labels)), 4),
            "mean_distance": round(float(g.distance.mean()), 4),
            "mean_disagreement": round(float(g.disagreement.mean()), 4),
            "confidence_minus_accuracy": _figures(probs, g.labels)["confidence_minus_accuracy"],
        }
    return out


def format_table(
    head: str, reports: Sequence[dict[str, Any]], in_domain_share: float | None, not_fitted: frozenset[str],
    heading: str = "",
) -> str:
    """The reports of :func:`nested_report` as a text table, one variant a row."""
    names = list(reports[0]["domains"])
    lines = [
        f"{head}: nested LODO ECE (15 bins, top label); in-domain share {in_domain_share or 'per group'}{heading}",
        f"{'variant':58}{'pooled':>8}{'mean':>7}{'val':>7}  " + " ".join(f"{n[:14]:>14}" for n in names),
    ]
    for r in reports:
        eces = " ".join(f"{r['domains'][n]['ece']:>14.4f}" for n in names)
        lines.append(f"{r['variant']:58}{r['pooled']['ece']:>8.4f}{r['mean_over_domains']:>7.4f}"
                     f"{r['in_domain_val']['ece']:>7.4f}  {eces}")
        if "mean_without_not_fitted" in r:
            lines.append(f"{'  without ' + ', '.join(sorted(not_fitted)):58}"
                         f"{r['pooled_without_not_fitted']['ece']:>8.4f}{r['mean_without_not_fitted']:>7.4f}")
        gaps = " ".join(f"{r['domains'][n]['confidence_minus_accuracy']:>+14.3f}" for n in names)
        lines.append(f"{'  confidence - accuracy':58}{r['pooled']['confidence_minus_accuracy']:>+8.3f}{'':7}"
                     f"{r['in_domain_val']['confidence_minus_accuracy']:>+7.3f}  {gaps}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    from ticketlens.training import data as tdata
    from ticketlens.training import train as ttrain
    from ticketlens.training.shift import distances

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--head", choices=("intent", "sentiment"), default="intent")
    parser.add_argument("--data-dir",
                        help="shared datasets folder (default: $TICKETLENS_DATASETS or ../shared/datasets)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--in-domain-share", type=float,
                        help="weight of the in-domain calib rows in the top-label fit, in all (default: every group "
                             "the same, as the shift fit)")
    parser.add_argument("--source-views", choices=get_args(SourceViews),
                        help="each ensemble member's view of the training sources (default: the spec's)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.in_domain_share is not None and not 0 < args.in_domain_share < 1:
        parser.error("--in-domain-share must be between 0 and 1")

    base = ttrain.INTENT_SPEC if args.head == "intent" else ttrain.SENTIMENT_SPEC
    views: SourceViews = args.source_views or base.fit.source_views
    spec = replace(base, fit=replace(base.fit, seed=args.seed, source_views=views))
    assert spec.shift is not None
    examples = ttrain.default_examples(args.head, tdata.find_data_dir(args.data_dir), args.seed)
    x = ttrain.build_features(examples, spec.features)
    fitted = ttrain.fit_head(spec, examples, x)
    if fitted.prototypes is None:
        raise SystemExit("no leave-one-domain-out material (calib split too small)")
    va = np.flatnonzero(np.asarray([e.split for e in examples]) == "val")
    val = Rows(
        fitted.raw[va], fitted.labels[va], distances(x[va, :EMBED_DIM], fitted.prototypes, spec.shift.k),
        fitted.head.disagreement(x[va]),
    )
    # the argmax, so accuracy and macro F1, is the same under every variant
    report = classification_report([examples[i].label for i in va], softmax(fitted.raw[va]), spec.labels)
    val_scores = {"accuracy": report["accuracy"], "macro_f1": report["macro_f1"]}
    reports = [
        nested_report(fitted.groups, fitted.head.temperature, val, v, args.in_domain_share, spec.shift.fit_exclude)
        for v in VARIANTS
    ]
    if args.json:
        coef = fit_shift(fitted.groups, start=float(np.log(fitted.head.temperature)))
        print(json.dumps({"head": args.head, "in_domain_share": args.in_domain_share, "source_views": views,
                          "in_domain_val": val_scores, "shift_coef": list(coef),
                          "groups": group_summary(fitted.groups, fitted.head.temperature), "variants": reports},
                         indent=1))
        return 0
    heading = (f"; source views {views}; in-domain val accuracy {val_scores['accuracy']:.4f}, "
               f"macro F1 {val_scores['macro_f1']:.4f}")
    print(format_table(args.head, reports, args.in_domain_share, spec.shift.fit_exclude, heading))
    return 0
