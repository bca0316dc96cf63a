"""``ticketlens train`` and ``ticketlens eval``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # imported where used: `ticketlens --help` stays fast
    from ticketlens.enrichment.heads import ClassifierHead
    from ticketlens.training.train import HeadSpec

HEAD_KINDS = ("intent", "sentiment", "flag")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    train = subparsers.add_parser(
        "train",
        help="fit + calibrate the classifier heads (default data, or your own --labels)",
        description=(
            "Without --labels: reproduce the packaged intent and sentiment heads from the public "
            "data in shared/datasets plus this project's customer-service examples, writing "
            "<head>.npz and <head>.metrics.json. With --labels FILE.jsonl (lines of "
            '{"text": ..., "label": ...}): fit a head for your own taxonomy and write it to --out.'
        ),
    )
    train.add_argument("--head", choices=(*HEAD_KINDS, "all"), default="all", help="which default head(s) to train")
    train.add_argument("--labels", type=Path, help="your own labelled jsonl: fit a head for its labels")
    train.add_argument("--label-field", default="label", help="the label key in --labels rows (default: label)")
    train.add_argument("--name", help="the kind recorded in a --labels head (default: the file's stem)")
    train.add_argument("--out", type=Path, help="where a --labels head goes (.npz; metrics beside it)")
    train.add_argument("--out-dir", type=Path, help="where default heads go (default: the package's heads/)")
    train.add_argument("--data-dir",
                       help="shared datasets folder (default: $TICKETLENS_DATASETS or ../shared/datasets)")
    train.add_argument("--plot-dir", type=Path,
                       help="reliability diagrams go here (default: docs/img when ./docs exists)")
    train.add_argument("--no-plot", action="store_true", help="skip the reliability diagrams")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--hidden", type=int, help="hidden units (0 = logistic regression); default per head")
    train.add_argument("--epochs", type=int, help="maximum epochs; default per head")
    train.set_defaults(func=run_train)

    evaluate = subparsers.add_parser(
        "eval",
        help="score a head on a labelled jsonl (or, without --labels, on the default validation "
        "splits): accuracy, macro-F1, per-class F1, ECE, vs keywords",
    )
    evaluate.add_argument(
        "--labels", type=Path,
        help="jsonl rows with text (or subject/body) and a label; without it: every validation group "
        "of the default data, as `ticketlens train` reported it",
    )
    evaluate.add_argument("--data-dir", help="shared datasets folder, for the default validation splits")
    evaluate.add_argument("--seed", type=int, default=0, help="split seed of the default validation splits")
    evaluate.add_argument(
        "--head", default="intent", help="intent | sentiment | flag (the configured head) | a path to a head .npz"
    )
    evaluate.add_argument("--label-field", help="the label key (default: the head's kind if rows have it, else label)")
    evaluate.add_argument("--json", action="store_true", help="print the report as JSON")
    evaluate.set_defaults(func=run_eval)


# --- train ---------------------------------------------------------------------------------


def plot_dir(args: argparse.Namespace) -> Path | None:
    """Where reliability diagrams go: --plot-dir, else docs/img in a checkout; None for
    --no-plot or when matplotlib is missing (said on stderr)."""
    if args.no_plot:
        return None
    folder = args.plot_dir or (Path("docs/img") if Path("docs").is_dir() else None)
    return folder if folder is not None and _can_plot() else None


def _can_plot() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("matplotlib not installed: no reliability diagram (pip install -e '.[train]')", file=sys.stderr)
        return False
    return True


def _spec_with_overrides(spec: HeadSpec, args: argparse.Namespace) -> HeadSpec:
    fit = spec.fit
    if args.hidden is not None:
        fit = replace(fit, hidden=args.hidden)
    if args.epochs is not None:
        fit = replace(fit, epochs=args.epochs)
    return replace(spec, fit=replace(fit, seed=args.seed))


def run_train(args: argparse.Namespace) -> int:
    from ticketlens.enrichment.heads import packaged_head_path
    from ticketlens.training import data as tdata
    from ticketlens.training import train as ttrain

    plot_folder = plot_dir(args)
    if args.labels:
        if not args.out:
            print("--labels needs --out PATH.npz", file=sys.stderr)
            return 2
        examples = tdata.load_labels_jsonl(args.labels, args.label_field)
        labels = tuple(sorted({e.label for e in examples}))
        if len(labels) < 2:
            print(f"{args.labels}: need at least two distinct labels", file=sys.stderr)
            return 2
        examples = tdata.stratified_split(examples, {"train": 0.7, "calib": 0.15, "val": 0.15}, args.seed, key="label")
        base = ttrain.HeadSpec(kind=args.name or args.labels.stem, labels=labels)
        spec = _spec_with_overrides(base, args)
        jobs = [(spec, examples, args.out)]
    else:
        data_dir = tdata.find_data_dir(args.data_dir)
        out_dir = args.out_dir or packaged_head_path("intent").parent
        kinds = HEAD_KINDS if args.head == "all" else (args.head,)
        specs = {"intent": ttrain.INTENT_SPEC, "sentiment": ttrain.SENTIMENT_SPEC, "flag": ttrain.FLAG_SPEC}
        jobs = [
            (_spec_with_overrides(specs[k], args), ttrain.default_examples(k, data_dir, args.seed),
             out_dir / f"{k}.npz")
            for k in kinds
        ]
    for spec, examples, out in jobs:
        started = time.perf_counter()
        plot = plot_folder / f"reliability-{spec.kind}.png" if plot_folder is not None else None
        head, metrics = ttrain.train_head(spec, examples, plot_path=plot)
        metrics["seed"] = args.seed
        metrics["training_seconds"]["total"] = round(time.perf_counter() - started, 1)
        metrics_path = ttrain.write_outputs(head, metrics, Path(out))
        print(f"wrote {out} (version {head.version}) and {metrics_path}")
        val = metrics.get("val", {}).get("pooled") if isinstance(metrics.get("val"), dict) else None
        if val:
            print(
                f"  val n={val['n']}: accuracy {val['accuracy']:.3f}, macro-F1 {val['macro_f1']:.3f}, "
                f"ECE {val['ece_uncalibrated']:.3f} -> {val['ece']:.3f} (T={head.temperature:.2f})"
            )
        lodo = metrics.get("lodo")
        if isinstance(lodo, dict):
            for domain, figures in lodo.items():
                if isinstance(figures, dict) and isinstance(figures.get("before"), dict):
                    before, after = figures["before"], figures["after"]
                    print(
                        f"  left out {domain:18} n={after['n']:>6} accuracy {after['accuracy']:.3f}  confidence "
                        f"{before['mean_confidence']:.3f} -> {after['mean_confidence']:.3f}  "
                        f"ECE {before['ece']:.3f} -> "
                        f"{after['ece']:.3f} (chance {after['ece_noise_floor']:.3f}, p95 {after['ece_noise_p95']:.3f})"
                    )
    return 0


# --- eval ----------------------------------------------------------------------------------


def _resolve_head(name: str) -> ClassifierHead:
    from ticketlens.enrichment.heads import load_head
    from ticketlens.settings import Settings

    if name in HEAD_KINDS:
        settings = Settings()
        return load_head(getattr(settings, f"{name}_head"), name)
    return load_head(name, Path(name).stem)


def run_eval(args: argparse.Namespace) -> int:
    from ticketlens.schemas import Traffic
    from ticketlens.training import data as tdata
    from ticketlens.training.embed import embed
    from ticketlens.training.keywords import keyword_predict
    from ticketlens.training.metrics import classification_report, label_report

    head = _resolve_head(args.head)
    if args.labels is None:
        return _eval_default_splits(head, args)
    rows = tdata.read_jsonl(args.labels)
    field = args.label_field or (head.kind if any(head.kind in r for r in rows) else "label")
    rows = [r for r in rows if r.get(field) is not None]
    if not rows:
        print(f"{args.labels}: no rows with a {field!r} label", file=sys.stderr)
        return 2
    texts = [tdata.row_text(r) for r in rows]
    truth = [str(r[field]) for r in rows]
    vectors = embed(texts)
    # the file is read as one deployment's traffic: its rows' disagreement sets the temperature
    traffic = Traffic().plus(head.score(vectors, texts).disagreement.tolist()) if head.traffic else None
    probs = head.predict_proba(vectors, texts, traffic=traffic)
    report = classification_report(truth, probs, head.labels)
    unknown = sorted(set(truth) - set(head.labels))
    keywords = keyword_predict(head.kind, texts)
    baseline = label_report(truth, keywords) if keywords is not None else None
    if args.json:
        print(json.dumps({"head": head.kind, "version": head.version, "file": str(args.labels),
                          "report": report, "keyword_baseline": baseline, "unknown_labels": unknown}, indent=1))
        return 0
    print(f"{head.kind} head {head.version} on {args.labels} ({report['n']} rows, label field {field!r})")
    if traffic is not None and traffic.mean_log_disagreement is not None:
        print(f"  read as one deployment's traffic: mean log disagreement {traffic.mean_log_disagreement:.2f}, "
              f"temperature {head.temperature_for(traffic):.2f}")
    if unknown:
        print(f"  note: labels the head cannot predict (count as errors): {', '.join(unknown)}")
    kw = baseline or {}
    print(f"  {'':24}{'head':>8}{'keywords':>10}")
    print(f"  {'accuracy':24}{report['accuracy']:>8.3f}{_fmt(kw.get('accuracy')):>10}")
    print(f"  {'macro-F1':24}{report['macro_f1']:>8.3f}{_fmt(kw.get('macro_f1')):>10}")
    print(f"  {'ECE (15 bins, top-label)':24}{report['ece']:>8.3f}{'-':>10}")
    print(
        f"  {'':24}a perfectly calibrated head would show {report['ece_noise_floor']:.3f} here by chance "
        f"(95th percentile {report['ece_noise_p95']:.3f}, n={report['n']})"
    )
    print("  per-class F1:")
    kw_f1 = kw.get("per_class_f1", {})
    for label, f1 in sorted(report["per_class_f1"].items()):
        print(f"    {label:22}{f1:>8.3f}{_fmt(kw_f1.get(label)):>10}")
    return 0


def _eval_default_splits(head: ClassifierHead, args: argparse.Namespace) -> int:
    """Score ``head`` on the validation split of the data its kind is trained on: the same
    groups and figures `ticketlens train` writes to the metrics file."""
    from ticketlens.training import data as tdata
    from ticketlens.training import train as ttrain

    if head.kind not in HEAD_KINDS:
        print(f"ticketlens eval: a {head.kind!r} head has no default data: pass --labels", file=sys.stderr)
        return 2
    defaults = ttrain.default_examples(head.kind, tdata.find_data_dir(args.data_dir), args.seed)
    examples = [e for e in defaults if e.split == "val"]
    groups = ttrain.evaluate(head, examples, ttrain.build_features(examples, head.features))
    if args.json:
        print(json.dumps({"head": head.kind, "version": head.version, "val": groups}, indent=1))
        return 0
    print(f"{head.kind} head {head.version} on the default validation splits (seed {args.seed})")
    print(f"  {'group':26}{'n':>6}{'acc':>7}{'macro-F1':>10}{'keywords':>10}{'ECE':>7}{'chance ECE (p95)':>18}")
    for name, report in groups.items():
        if name == "other_pooled":
            continue
        kw = report.get("keyword_baseline", {})
        print(
            f"  {name:26}{report['n']:>6}{report['accuracy']:>7.3f}{report['macro_f1']:>10.3f}"
            f"{_fmt(kw.get('macro_f1')):>10}{report['ece']:>7.3f}"
            f"{report['ece_noise_floor']:>10.3f} ({report['ece_noise_p95']:.3f})"
            + (
                f"   flagged {report['flagged']}, wrongly {report['false_flags']}, "
                f"P {_fmt(report['flag_precision'])} R {_fmt(report['flag_recall'])}"
                if "flagged" in report
                else ""
            )
        )
    other = groups.get("other_pooled")
    if other:
        print("  other: " + ", ".join(f"{k} {v:.3f}" for k, v in other.items()))
    return 0


def _fmt(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, (int, float)) and not np.isnan(value) else "-"
