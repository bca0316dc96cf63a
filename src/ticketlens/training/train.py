"""Train, calibrate and evaluate one head end to end; write the .npz and its metrics.

Splits: ``train`` fits the network, ``calib`` early-stops it and fits the calibration
temperature, ``val`` is only ever scored (figures in the metrics file and docs/quality.md).
"""

from __future__ import annotations

import json
import logging
import platform
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ticketlens.enrichment.flags import no_action
from ticketlens.enrichment.heads import ClassifierHead, TrafficCalibration, softmax, text_features
from ticketlens.schemas import NO_FLAG, Traffic
from ticketlens.training import data as tdata
from ticketlens.training.embed import embed
from ticketlens.training.fit import FitConfig, build_head, fit_ensemble, fit_temperature
from ticketlens.training.keywords import keyword_predict
from ticketlens.training.metrics import (
    classification_report,
    expected_calibration_error,
    label_report,
    plot_reliability,
    precision_recall,
)
from ticketlens.training.shift import (
    Group,
    ShiftSpec,
    fit_traffic,
    lodo_groups,
    lodo_report,
    pick_prototypes,
    traffic_prior,
)

log = logging.getLogger(__name__)
MIN_CALIBRATION_ROWS = 20
EMBED_DIM = 384  # the embedding is always the first feature block
# sources no head ever trains on, in any split (written or labelled apart from the training
# files): together they are the fairest stand-in for tickets from elsewhere
NEVER_TRAINED_SOURCES = frozenset({"cs_eval", "cs_eval_calls", "tweetsumm-cs", "flag_eval", "tweetsumm-openers"})


@dataclass
class HeadSpec:
    kind: str
    labels: tuple[str, ...]
    features: tuple[str, ...] = ("embedding",)
    fit: FitConfig = field(default_factory=FitConfig)
    # sample weight of each source (default 1) and how far to balance classes:
    # weight *= (n / (K * n_class)) ** class_balance
    source_weights: dict[str, float] = field(default_factory=dict)
    class_balance: float = 0.5
    # the calibration temperature is fitted with calib rows weighted 1 / n_source ** this:
    # 0 = the calib split as it is (dominated by the biggest sources), 1 = every source
    # counts the same (the head meets a mix of domains it was not fitted on)
    calibration_source_balance: float = 0.0
    # leave-one-domain-out shift calibration (training/shift.py); None = one temperature
    shift: ShiftSpec | None = None


INTENT_SPEC = HeadSpec(
    kind="intent",
    labels=tdata.INTENT_LABELS,
    features=("embedding", "cues"),
    fit=FitConfig(
        hidden=256, epochs=40, dropout=0.3, input_dropout=0.1, weight_decay=1e-4, label_smoothing=0.1, ensemble=3
    ),
    source_weights={"cs_train": 8.0, "cs_calls_train": 8.0, "cs_scope_train": 4.0, "nlbse24": 3.0},
    class_balance=0.25,
    calibration_source_balance=1.0,
    shift=ShiftSpec(),
)
SENTIMENT_SPEC = HeadSpec(
    kind="sentiment",
    labels=tdata.SENTIMENT_LABELS,
    features=("embedding", "vader"),
    fit=FitConfig(hidden=256, epochs=40, dropout=0.3, input_dropout=0.1, weight_decay=1e-4, ensemble=3),
    source_weights={
        "cs_train": 10.0, "cs_calls_train": 10.0, "cs_tweets_train": 4.0, "tweeteval": 0.5, "weak:nlbse24": 0.5
    },
    class_balance=0.5,
    calibration_source_balance=0.5,
    shift=ShiftSpec(fit_exclude=frozenset({"tweeteval"})),
)


# Spam, automatic replies and thank-you notes: precision first, so own positives count 4x and
# the classes are only partly balanced; one temperature (no LODO: the own lines are the only
# source of positives, so no domain can be left out and still teach the flag).
FLAG_SPEC = HeadSpec(
    kind="flag",
    labels=tdata.FLAG_LABELS,
    features=("embedding", "cues"),
    fit=FitConfig(hidden=128, epochs=40, dropout=0.3, input_dropout=0.1, weight_decay=1e-4, ensemble=3),
    source_weights={"flag_train": 4.0},
    class_balance=0.5,
    calibration_source_balance=0.5,
)


def build_features(examples: Sequence[tdata.Example], features: Sequence[str]) -> np.ndarray:
    texts = [e.text for e in examples]
    parts = [embed(texts, progress=True)] + [text_features(name, texts) for name in features if name != "embedding"]
    return np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]


def raw_logits(head: ClassifierHead, x: np.ndarray) -> np.ndarray:
    """Uncalibrated logits of ``head`` for already-built features ``x``."""
    return head.logits_of_features(x)


def _weights(examples: Sequence[tdata.Example], spec: HeadSpec) -> np.ndarray:
    counts = Counter(e.label for e in examples)
    n, k = len(examples), len(counts)
    return np.asarray(
        [spec.source_weights.get(e.source, 1.0) * (n / (k * counts[e.label])) ** spec.class_balance for e in examples],
        dtype=np.float32,
    )


def _calibration_weights(examples: Sequence[tdata.Example], spec: HeadSpec) -> np.ndarray:
    counts = Counter(_group_name(e) for e in examples)
    return np.asarray([counts[_group_name(e)] ** -spec.calibration_source_balance for e in examples])


def _group_name(example: tdata.Example) -> str:
    if example.source == "clinc150":
        return "clinc150-oos" if example.fine == "oos" else "clinc150"
    return example.source


def evaluate(
    head: ClassifierHead,
    examples: Sequence[tdata.Example],
    x: np.ndarray,
    logits: np.ndarray | None = None,
    baseline: bool = True,
) -> dict[str, Any]:
    """Per-source and pooled reports of ``head`` on ``examples`` (whose features are ``x``)."""
    if logits is None:
        logits = raw_logits(head, x)
    probs = calibrated(head, examples, x, logits)
    lookup = {label: i for i, label in enumerate(head.labels)}
    groups: dict[str, list[int]] = defaultdict(list)
    for i, e in enumerate(examples):
        groups[_group_name(e)].append(i)
    unseen = [i for i, e in enumerate(examples) if e.source in NEVER_TRAINED_SOURCES]
    pooled = {"pooled": list(range(len(examples)))}
    if unseen:
        pooled["never_trained_on"] = unseen
    groups = {**pooled, **dict(sorted(groups.items()))}
    out: dict[str, Any] = {}
    for name, idx in groups.items():
        truth = [examples[i].label for i in idx]
        report = classification_report(truth, probs[idx], head.labels)
        t_idx = np.asarray([lookup.get(t, -1) for t in truth])
        report["ece_uncalibrated"] = round(expected_calibration_error(softmax(logits[idx]), t_idx), 4)
        if baseline:
            kw = keyword_predict(head.kind, [examples[i].text for i in idx])
            if kw is not None:
                report["keyword_baseline"] = label_report(truth, kw)
        out[name] = report
    if NO_FLAG in head.labels:
        _flag_reports(out, groups, head, probs, examples)
    if "other" in head.labels:
        pred = [head.labels[j] for j in probs.argmax(axis=1)]
        truth = [e.label for e in examples]
        precision, recall = precision_recall(truth, pred, "other")
        other = {"precision": round(precision, 4), "recall": round(recall, 4)}
        oos = [i for i, e in enumerate(examples) if e.fine == "oos"]
        if oos:
            other["recall_on_clinc_oos"] = round(float(np.mean([pred[i] == "other" for i in oos])), 4)
        out["other_pooled"] = other
    return out


def calibrated(
    head: ClassifierHead, examples: Sequence[tdata.Example], x: np.ndarray, logits: np.ndarray
) -> np.ndarray:
    """The head's probabilities for ``examples``, each source read as one deployment's
    traffic (its own level, as a deployment that has seen a while of it)."""
    if head.traffic is None:
        return softmax(logits / head.temperature)
    disagreement = head.disagreement(x)
    sources = np.asarray([e.source for e in examples])
    probs = np.empty(logits.shape, dtype=np.float32)
    for source in set(sources.tolist()):
        rows = sources == source
        probs[rows] = softmax(logits[rows] / head.temperature_for(Traffic().plus(disagreement[rows].tolist())))
    return probs


def _flag_reports(
    out: dict[str, Any],
    groups: dict[str, list[int]],
    head: ClassifierHead,
    probs: np.ndarray,
    examples: Sequence[tdata.Example],
) -> None:
    """Flagged or not, exactly as the enricher decides it (language discount and threshold
    included): precision, recall and false flags per group."""
    from ticketlens.enrichment.language import get_detector

    english = [guess.english for guess in get_detector().detect([e.text for e in examples])]
    flagged = np.asarray([flag is not None for flag, _ in no_action(probs, head.labels, english)])
    truth = np.asarray([e.label != NO_FLAG for e in examples])
    for name, idx in groups.items():
        f, t = flagged[idx], truth[idx]
        report = out[name]
        assert isinstance(report, dict)
        report["flagged"] = int(f.sum())
        report["false_flags"] = int((f & ~t).sum())
        report["flag_precision"] = round(float((f & t).sum() / f.sum()), 4) if f.any() else None
        report["flag_recall"] = round(float((f & t).sum() / t.sum()), 4) if t.any() else None


@dataclass
class FittedHead:
    """A head fitted on the train split, with the material its calibration is fitted on."""

    head: ClassifierHead  # its ``temperature`` already set to the single temperature
    fit_info: dict[str, Any]
    labels: np.ndarray  # label index of every example
    raw: np.ndarray  # the head's uncalibrated logits of every example
    calibrated: bool  # False: the calib split is too small, the temperature stays 1
    groups: list[Group]  # in-domain calib and left-out domains; empty without a shift spec
    prototypes: np.ndarray | None  # the training embeddings the shift calibration keeps
    prototype_rows: np.ndarray | None = None  # their rows in the examples


def fit_head(spec: HeadSpec, examples: Sequence[tdata.Example], x_all: np.ndarray) -> FittedHead:
    """Fit ``spec`` on the train rows of ``examples`` (features ``x_all``), its single
    temperature on the calib rows and, with a shift spec, one head per left-out domain."""
    label_index = {label: i for i, label in enumerate(spec.labels)}
    y_all = np.asarray([label_index[e.label] for e in examples])
    split = np.asarray([e.split for e in examples])
    sources = np.asarray([e.source for e in examples])
    tr, ca = (np.flatnonzero(split == s) for s in ("train", "calib"))
    if len(tr) == 0:
        raise ValueError("no training examples")

    def fit_without(keep: np.ndarray) -> ClassifierHead:
        """The network fitted on the train rows in ``keep``, early-stopped on its calib rows."""
        rows_tr, rows_ca = tr[keep[tr]], ca[keep[ca]]
        x_tr = x_all[rows_tr]
        mean = x_tr.mean(axis=0)
        std = x_tr.std(axis=0)
        # a floor, so a feature (nearly) constant in a small training set cannot blow up later
        scale = np.maximum(std, 0.5 * float(np.median(std))) + 1e-6
        z_tr = ((x_tr - mean) / scale).astype(np.float32)
        z_ca = ((x_all[rows_ca] - mean) / scale).astype(np.float32)
        w_tr = _weights([examples[i] for i in rows_tr], spec)
        stop = (z_ca, y_all[rows_ca]) if len(rows_ca) else (None, None)
        params, info = fit_ensemble(
            z_tr, y_all[rows_tr], len(spec.labels), spec.fit, w_tr, stop[0], stop[1], sources[rows_tr]
        )
        fit_infos.append(info)
        fitted = build_head(spec.kind, spec.labels, spec.features, mean, scale, params, 1.0)
        fitted.members = max(spec.fit.ensemble, 1) if spec.fit.hidden else 1
        return fitted

    fit_infos: list[dict[str, Any]] = []
    head = fit_without(np.ones(len(examples), dtype=bool))
    raw = raw_logits(head, x_all)
    # a temperature fitted on a handful of rows is noise (all right -> T at its floor): keep 1
    calibrated = len(ca) >= MIN_CALIBRATION_ROWS
    calib_examples = [examples[i] for i in ca.tolist()]
    head.temperature = (
        fit_temperature(raw[ca], y_all[ca], _calibration_weights(calib_examples, spec)) if calibrated else 1.0
    )
    groups: list[Group] = []
    prototypes = proto_rows = None
    if spec.shift is not None and calibrated:
        embeddings = x_all[:, :EMBED_DIM]
        proto_rows = pick_prototypes(tr, spec.shift.prototypes, spec.fit.seed)
        prototypes = embeddings[proto_rows].astype(np.float16)

        def scored_without(keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            lodo_head = fit_without(keep)
            return raw_logits(lodo_head, x_all), lodo_head.disagreement(x_all)

        groups = lodo_groups(
            scored_without, raw, head.disagreement(x_all), embeddings, y_all, sources, split, proto_rows, spec.shift,
            prototypes,
        )
    return FittedHead(head, fit_infos[0], y_all, raw, calibrated, groups, prototypes, proto_rows)


def train_head(
    spec: HeadSpec,
    examples: Sequence[tdata.Example],
    plot_path: Path | None = None,
) -> tuple[ClassifierHead, dict[str, Any]]:
    """Fit + calibrate + evaluate ``spec`` on ``examples`` (each carrying its split)."""
    started = time.perf_counter()
    unknown = sorted({e.label for e in examples} - set(spec.labels))
    if unknown:
        raise ValueError(f"labels not in the head's label set: {unknown}")
    x_all = build_features(examples, spec.features)
    embedded_at = time.perf_counter()
    fitted = fit_head(spec, examples, x_all)
    head, raw, y_all, temperature = fitted.head, fitted.raw, fitted.labels, fitted.head.temperature
    split = np.asarray([e.split for e in examples])
    ca, va = (np.flatnonzero(split == s) for s in ("calib", "val"))
    calib_examples = [examples[i] for i in ca.tolist()]
    lodo: dict[str, Any] | None = None
    if spec.shift is not None and fitted.prototypes is not None:
        groups = fitted.groups
        a, b = fit_traffic(groups, spec.shift, start=float(np.log(temperature)))
        m0, w = traffic_prior(groups, spec.shift)
        lodo = {"traffic_coef": [a, b], "traffic_prior": [m0, w],
                **lodo_report(groups, temperature, spec.shift, spec.fit.seed)}
        # shipped only when it does better than the single temperature on the domains it
        # never saw (nested figures, mean over domains); otherwise the head keeps T
        mean = lodo["mean_over_domains"]
        assert isinstance(mean, dict)
        lodo["shipped"] = bool(mean["after"] < mean["before"])
        if lodo["shipped"]:
            head.traffic = TrafficCalibration(a, b, m0, w)
    fitted_at = time.perf_counter()

    val_examples = [examples[i] for i in va.tolist()]
    metrics: dict[str, Any] = {
        "kind": spec.kind,
        "labels": list(spec.labels),
        "features": list(spec.features),
        "fit_config": asdict(spec.fit),
        "source_weights": spec.source_weights,
        "class_balance": spec.class_balance,
        "calibration_source_balance": spec.calibration_source_balance,
        "temperature": round(temperature, 4),
        "calibration": (
            (
                "traffic: exp(a + b * the mean log disagreement of the deployment's recent tickets), "
                "fitted on the calib split and leave-one-domain-out logits"
                if lodo and lodo["shipped"]
                else "temperature fitted on the calib split"
            )
            if fitted.calibrated
            else f"none (calib split < {MIN_CALIBRATION_ROWS} rows)"
        ),
        "fit": fitted.fit_info,
        "data": _data_summary(examples),
        "training_seconds": {
            "embedding_and_features": round(embedded_at - started, 1),
            "fit_and_calibration": round(fitted_at - embedded_at, 1),
        },
        "machine": f"{platform.machine()} {platform.system()}, numpy {np.__version__}",
    }
    if lodo is not None:
        metrics["lodo"] = lodo
    if len(va):
        metrics["val"] = evaluate(head, val_examples, x_all[va], logits=raw[va])
    if len(ca):
        calib = evaluate(head, calib_examples, x_all[ca], logits=raw[ca], baseline=False)
        metrics["calib_pooled"] = calib["pooled"]
    if plot_path is not None and len(va):
        truth = y_all[va]
        curves = {
            "uncalibrated": (softmax(raw[va]), truth),
            f"temperature {temperature:.2f}": (softmax(raw[va] / temperature), truth),
        }
        if head.traffic is not None:
            val_examples_ = [examples[i] for i in va.tolist()]
            curves["traffic calibration (shipped)"] = (calibrated(head, val_examples_, x_all[va], raw[va]), truth)
        plot_reliability(
            curves,
            plot_path,
            f"{spec.kind} head, pooled validation split (n={len(va)})",
        )
        metrics["reliability_diagram"] = plot_path.as_posix()
    return head, metrics


def _data_summary(examples: Sequence[tdata.Example]) -> dict[str, Any]:
    by_source: dict[str, Counter[str]] = defaultdict(Counter)
    by_label: dict[str, Counter[str]] = defaultdict(Counter)
    for e in examples:
        by_source[e.source][e.split] += 1
        by_label[e.split][e.label] += 1
    return {
        "n": len(examples),
        "by_source_and_split": {s: dict(sorted(c.items())) for s, c in sorted(by_source.items())},
        "by_split_and_label": {s: dict(sorted(c.items())) for s, c in sorted(by_label.items())},
    }


def write_outputs(head: ClassifierHead, metrics: dict[str, Any], out: Path) -> Path:
    """Save the head and ``<stem>.metrics.json`` beside it; returns the metrics path."""
    version = head.save(out)
    metrics = {"head": out.name, "version": version, **metrics}
    metrics_path = out.with_name(f"{out.stem}.metrics.json")
    metrics_path.write_text(json.dumps(metrics, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return metrics_path


def default_examples(kind: str, data_dir: Path, seed: int) -> list[tdata.Example]:
    if kind == "intent":
        return tdata.load_intent_public(data_dir, seed) + tdata.load_own("intent", seed)
    if kind == "sentiment":
        return tdata.load_sentiment_public(data_dir, seed) + tdata.load_own("sentiment", seed)
    if kind == "flag":
        return tdata.load_flag(data_dir, seed)
    raise ValueError(f"no default data for head kind {kind!r}")
