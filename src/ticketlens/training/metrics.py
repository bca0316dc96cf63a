"""Classification metrics (numpy only): accuracy, per-class and macro F1, top-label expected
calibration error, and the reliability diagram."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ECE_BINS = 15


def accuracy(y_true: Sequence[str], y_pred: Sequence[str]) -> float:
    if len(y_true) == 0:
        return float("nan")
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))


def per_class_f1(
    y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str] | None = None
) -> dict[str, float]:
    """F1 of each label in ``labels`` (default: the labels present in ``y_true``).

    A label never predicted and never true would be undefined; it is not reported. A label
    predicted but absent from ``labels`` still costs recall of the true labels."""
    truth, pred = np.asarray(y_true), np.asarray(y_pred)
    if labels is None:
        labels = sorted(set(truth.tolist()))
    out: dict[str, float] = {}
    for label in labels:
        tp = float(np.sum((truth == label) & (pred == label)))
        fp = float(np.sum((truth != label) & (pred == label)))
        fn = float(np.sum((truth == label) & (pred != label)))
        if tp + fp + fn == 0:
            continue
        out[str(label)] = 2 * tp / (2 * tp + fp + fn)
    return out


def macro_f1(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str] | None = None) -> float:
    scores = per_class_f1(y_true, y_pred, labels)
    return float(np.mean(list(scores.values()))) if scores else float("nan")


def precision_recall(y_true: Sequence[str], y_pred: Sequence[str], label: str) -> tuple[float, float]:
    truth, pred = np.asarray(y_true), np.asarray(y_pred)
    tp = float(np.sum((truth == label) & (pred == label)))
    predicted, actual = float(np.sum(pred == label)), float(np.sum(truth == label))
    return (tp / predicted if predicted else float("nan"), tp / actual if actual else float("nan"))


def _bin_index(confidence: np.ndarray, n_bins: int) -> np.ndarray:
    # bins are (k/n, (k+1)/n]; a confidence of exactly 0 falls in the first bin
    bins: np.ndarray = np.clip(np.ceil(confidence * n_bins).astype(int) - 1, 0, n_bins - 1)
    return bins


def reliability_bins(
    confidence: np.ndarray, correct: np.ndarray, n_bins: int = ECE_BINS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per bin: (count, mean confidence, accuracy); empty bins hold count 0 and NaNs."""
    confidence = np.asarray(confidence, dtype=np.float64)
    correct = np.asarray(correct, dtype=np.float64)
    index = _bin_index(confidence, n_bins)
    counts = np.bincount(index, minlength=n_bins).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        conf = np.bincount(index, weights=confidence, minlength=n_bins) / counts
        acc = np.bincount(index, weights=correct, minlength=n_bins) / counts
    return counts, conf, acc


def expected_calibration_error(probs: np.ndarray, y_true_index: np.ndarray, n_bins: int = ECE_BINS) -> float:
    """Top-label ECE: sum over equal-width confidence bins of |B|/n * |acc(B) - conf(B)|."""
    probs = np.asarray(probs, dtype=np.float64)
    if len(probs) == 0:
        return float("nan")
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == np.asarray(y_true_index)
    counts, conf, acc = reliability_bins(confidence, correct, n_bins)
    filled = counts > 0
    return float(np.sum(counts[filled] / counts.sum() * np.abs(acc[filled] - conf[filled])))


def ece_noise_floor(
    confidence: np.ndarray, n_bins: int = ECE_BINS, draws: int = 400, seed: int = 0
) -> tuple[float, float]:
    """ECE a *perfectly calibrated* head would still show on this many rows: (mean, 95th pct).

    Each draw marks a row correct with probability equal to its confidence, which is what
    calibration means, and measures ECE. On ~80 rows that is already about 0.08, so an ECE
    below the 95th percentile is no evidence of miscalibration, and one above it is."""
    confidence = np.asarray(confidence, dtype=np.float64)
    if len(confidence) == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    scores = []
    for _ in range(draws):
        correct = rng.random(len(confidence)) < confidence
        counts, conf, acc = reliability_bins(confidence, correct, n_bins)
        filled = counts > 0
        scores.append(float(np.sum(counts[filled] / counts.sum() * np.abs(acc[filled] - conf[filled]))))
    return float(np.mean(scores)), float(np.percentile(scores, 95))


def classification_report(
    y_true: Sequence[str], probs: np.ndarray, labels: Sequence[str]
) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class F1 and ECE of calibrated ``probs`` against ``y_true``.

    Rows whose true label the head does not know count as errors (and no ECE row is lost)."""
    labels = list(labels)
    pred = [labels[i] for i in np.asarray(probs).argmax(axis=1)]
    lookup = {label: i for i, label in enumerate(labels)}
    truth_index = np.asarray([lookup.get(t, -1) for t in y_true])
    floor, floor_p95 = ece_noise_floor(np.asarray(probs).max(axis=1)) if len(y_true) else (float("nan"),) * 2
    return {
        "n": len(y_true),
        "accuracy": round(accuracy(y_true, pred), 4),
        "macro_f1": round(macro_f1(y_true, pred), 4),
        "per_class_f1": {k: round(v, 4) for k, v in per_class_f1(y_true, pred).items()},
        "ece": round(expected_calibration_error(probs, truth_index), 4),
        # what a perfectly calibrated head would score here by chance (mean, 95th percentile)
        "ece_noise_floor": round(floor, 4),
        "ece_noise_p95": round(floor_p95, 4),
    }


def label_report(y_true: Sequence[str], y_pred: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro-F1 and per-class F1 of hard predictions (e.g. the keyword baseline)."""
    return {
        "n": len(y_true),
        "accuracy": round(accuracy(y_true, y_pred), 4),
        "macro_f1": round(macro_f1(y_true, y_pred), 4),
        "per_class_f1": {k: round(v, 4) for k, v in per_class_f1(y_true, y_pred).items()},
    }


def plot_reliability(
    curves: dict[str, tuple[np.ndarray, np.ndarray]], path: Path, title: str, n_bins: int = ECE_BINS
) -> Path:
    """Reliability diagram: one line per curve name -> (probs, true index). Needs matplotlib."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5), dpi=110)
    ax.plot([0, 1], [0, 1], "--", color="grey", linewidth=1, label="perfect calibration")
    for name, (probs, truth) in curves.items():
        probs = np.asarray(probs)
        confidence = probs.max(axis=1)
        counts, conf, acc = reliability_bins(confidence, probs.argmax(axis=1) == truth, n_bins)
        filled = counts >= 5  # a bin of one or two tickets says nothing
        ece = expected_calibration_error(probs, truth, n_bins)
        ax.plot(conf[filled], acc[filled], "o-", label=f"{name} (ECE {ece:.3f})")
    ax.set_xlabel("confidence (top label)")
    ax.set_ylabel("accuracy")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
