"""`ticketlens eval-urgency`: how well the urgency rules agree with labelled tickets, and the
calibration (slope, floor) under which their confidence means what it says.

Labelled urgency exists only where someone defined it: the generator's ground truth
(written from what is at stake, not from the rules' keywords) and any JSON-lines file of
tickets with `metadata.labels.urgency`. The rules themselves are not fitted; only the slope
and floor of `level_probabilities` are, on a calibration half, and the other half reports
the figures.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ticketlens.enrichment.urgency import DEFAULT_FLOOR, DEFAULT_SLOPE, level_probabilities
from ticketlens.schemas import URGENCY_LEVELS, RawTicket
from ticketlens.training.metrics import ece_noise_floor, expected_calibration_error, label_report, plot_reliability

SLOPE_GRID = tuple(round(0.25 * k, 2) for k in range(2, 41))  # 0.5 .. 10.0
FLOOR_GRID = tuple(round(0.025 * k, 3) for k in range(0, 13))  # 0 .. 0.3


def _probabilities(scores: Sequence[float], slope: float, floor: float) -> np.ndarray:
    rows = [level_probabilities(score, slope, floor) for score in scores]
    return np.array([[row[level] for level in URGENCY_LEVELS] for row in rows])


def fit_calibration(scores: Sequence[float], truth_index: np.ndarray) -> tuple[float, float]:
    """The grid (slope, floor) with the lowest negative log-likelihood of the true levels."""
    def nll(pair: tuple[float, float]) -> float:
        probs = _probabilities(scores, *pair)[np.arange(len(scores)), truth_index]
        return -float(np.mean(np.log(np.clip(probs, 1e-12, 1.0))))

    return min(((s, f) for s in SLOPE_GRID for f in FLOOR_GRID), key=nll)


def _labelled_tickets(path: Path | None, count: int, seed: int) -> list[RawTicket]:
    if path is not None:
        with path.open(encoding="utf-8") as handle:
            tickets = [RawTicket.model_validate_json(line) for line in handle if line.strip()]
    else:
        from ticketlens.generator import TicketFactory

        factory = TicketFactory(seed=seed)
        tickets = [factory.make(created_at=1_763_856_000 + i) for i in range(count)]
    return [t for t in tickets if t.metadata.labels and t.metadata.labels.get("urgency") in URGENCY_LEVELS]


def evaluate_urgency(tickets: Sequence[RawTicket], plot_path: Path | None = None) -> dict[str, object]:
    from ticketlens.enrichment import get_enricher

    enricher = get_enricher()
    enriched = enricher.enrich(list(tickets))
    from ticketlens.enrichment.urgency import urgency_score

    negative = enricher.sentiment_head.labels.index("NEGATIVE")
    texts = [t.text for t in tickets]
    sentiment = enricher.sentiment_head.predict_proba(np.stack([e.enrichment.embedding for e in enriched]), texts)
    scores = [
        urgency_score(t.text, e.enrichment.intent, float(p[negative]), t.priority)[0]
        for t, e, p in zip(tickets, enriched, sentiment, strict=True)
    ]
    truth = np.array([URGENCY_LEVELS.index(t.metadata.labels["urgency"]) for t in tickets])  # type: ignore[index]
    half = len(tickets) // 2
    slope, floor = fit_calibration(scores[:half], truth[:half])
    held_scores, held_truth = scores[half:], truth[half:]
    report: dict[str, object] = {"tickets": len(tickets), "calibration_half": half}
    curves = {}
    for name, (s, f) in (("shipped", (DEFAULT_SLOPE, DEFAULT_FLOOR)), ("fitted", (slope, floor))):
        probs = _probabilities(held_scores, s, f)
        predicted = [URGENCY_LEVELS[i] for i in probs.argmax(axis=1)]
        chance, chance_p95 = ece_noise_floor(probs.max(axis=1))
        report[name] = {
            "slope": s,
            "floor": f,
            **label_report([URGENCY_LEVELS[i] for i in held_truth], predicted),
            "ece": expected_calibration_error(probs, held_truth),
            "ece_noise_floor": chance,
            "ece_noise_p95": chance_p95,
        }
        curves[f"{name}: slope {s:.2f}, floor {f:.3f}"] = (probs, held_truth)
    if plot_path is not None:
        plot_reliability(curves, plot_path, f"urgency rules, held-out generated tickets (n={len(held_truth)})")
        report["reliability_diagram"] = plot_path.as_posix()
    return report


# SeaMonkey's Bugzilla priority, set by the project's triagers (not by the reporter and not by
# our generator), mapped onto our four levels. P1 "fix now" is critical, P2 high, P3 the
# default for a real defect (medium), P4/P5 "someday" low. Reports without a priority ("--")
# are not used. Triage priority is a developer's view of urgency, not a support lead's:
# docs/urgency.md reads the figures with that in mind.
SEAMONKEY_PRIORITY: dict[str, str] = {"P1": "critical", "P2": "high", "P3": "medium", "P4": "low", "P5": "low"}
SEAMONKEY_FILE = Path("similar") / "gitbugs_seamonkey" / "SeaMonkey_bugs.csv"


def seamonkey_tickets(data_dir: Path) -> list[tuple[RawTicket, str]]:
    """(ticket, mapped level) for every SeaMonkey bug report with a Bugzilla priority; the
    summary is the subject, the first 2,000 characters of the description the body."""
    import csv

    csv.field_size_limit(1 << 30)
    out = []
    with (data_dir / SEAMONKEY_FILE).open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            level = SEAMONKEY_PRIORITY.get(row["Priority"].strip())
            if level is None:
                continue
            ticket = RawTicket(
                ticket_id=f"seamonkey-{row['Issue id']}",
                subject=row["Summary"][:2000],
                body=row["Description"][:2000] or row["Summary"][:2000],
                created_at=0,
                customer_id="seamonkey",
            )
            out.append((ticket, level))
    return out


def evaluate_priorities(pairs: Sequence[tuple[RawTicket, str]]) -> dict[str, object]:
    """Urgency as the enricher assigns it, against labels nobody here wrote: agreement,
    agreement within one level, and the rank correlation of the urgency score with them."""
    from ticketlens.enrichment import get_enricher
    from ticketlens.enrichment.urgency import urgency_score

    enricher = get_enricher()
    tickets = [t for t, _ in pairs]
    truth = [level for _, level in pairs]
    enriched = enricher.enrich(tickets)
    predicted = [e.enrichment.urgency for e in enriched]
    rank = {level: i for i, level in enumerate(reversed(URGENCY_LEVELS))}  # low 0 .. critical 3
    negative = enricher.sentiment_head.labels.index("NEGATIVE")
    texts = [t.text for t in tickets]
    sentiment = enricher.sentiment_head.predict_proba(np.stack([e.enrichment.embedding for e in enriched]), texts)
    scores = np.array([
        urgency_score(t.text, e.enrichment.intent, float(p[negative]), t.priority)[0]
        for t, e, p in zip(tickets, enriched, sentiment, strict=True)
    ])
    t_rank = np.array([rank[level] for level in truth], dtype=float)
    p_rank = np.array([rank[level] for level in predicted], dtype=float)
    pairs = list(zip(truth, predicted, strict=True))
    confusion = {
        f"truth {a}": {b: sum(1 for t, q in pairs if t == a and q == b) for b in reversed(URGENCY_LEVELS)}
        for a in reversed(URGENCY_LEVELS)
    }
    return {
        "tickets": len(pairs),
        "truth_counts": {level: truth.count(level) for level in reversed(URGENCY_LEVELS)},
        **label_report(truth, predicted),
        "within_one_level": round(float(np.mean(np.abs(t_rank - p_rank) <= 1)), 4),
        "spearman_score_vs_priority": round(_spearman(scores, t_rank), 4),
        "majority_baseline_accuracy": round(max(truth.count(x) for x in set(truth)) / len(truth), 4),
        "confusion": confusion,
    }


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    def ranks(x: np.ndarray) -> np.ndarray:
        order = np.argsort(x, kind="mergesort")
        r = np.empty(len(x))
        r[order] = np.arange(len(x))
        for value in np.unique(x):  # ties share their mean rank
            tie = x == value
            r[tie] = r[tie].mean()
        return r

    return float(np.corrcoef(ranks(a), ranks(b))[0, 1])


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "eval-urgency",
        help="agreement and calibration of the urgency rules on labelled tickets; fits the slope",
    )
    parser.add_argument("--labels", type=Path, help="tickets (JSON lines) with metadata.labels.urgency; "
                        "default: generated tickets")
    parser.add_argument("--tickets", type=int, default=4000, help="generated tickets when no --labels (default 4000)")
    parser.add_argument("--seed", type=int, default=2024, help="generator seed (default 2024)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--plot-dir", type=Path,
                        help="reliability diagram goes here (default: docs/img when ./docs exists)")
    parser.add_argument("--no-plot", action="store_true", help="skip the reliability diagram")
    parser.add_argument("--seamonkey", action="store_true",
                        help="instead: against the Bugzilla priorities of the SeaMonkey bug reports in shared/datasets "
                        "(P1 critical, P2 high, P3 medium, P4/P5 low)")
    parser.add_argument("--data-dir", help="shared datasets folder for --seamonkey (default: ../shared/datasets)")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    if args.seamonkey:
        return _run_seamonkey(args)
    tickets = _labelled_tickets(args.labels, args.tickets, args.seed)
    if len(tickets) < 20:
        print("ticketlens eval-urgency: need at least 20 tickets with metadata.labels.urgency", file=sys.stderr)
        return 2
    from ticketlens.training.commands import plot_dir

    folder = plot_dir(args)
    report = evaluate_urgency(tickets, folder / "reliability-urgency.png" if folder is not None else None)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"tickets: {report['tickets']} (slope and floor fitted on the first {report['calibration_half']}, "
          f"figures on the rest)")
    for name in ("shipped", "fitted"):
        part = report[name]
        assert isinstance(part, dict)
        per_class = ", ".join(f"{k} {v:.2f}" for k, v in part["per_class_f1"].items())
        print(f"{name:>8} slope {part['slope']:.2f} floor {part['floor']:.3f}: accuracy {part['accuracy']:.3f}  "
              f"macro-F1 {part['macro_f1']:.3f}  ECE {part['ece']:.3f} (chance {part['ece_noise_floor']:.3f})  "
              f"[{per_class}]")
    if "reliability_diagram" in report:
        print(f"reliability diagram: {report['reliability_diagram']}")
    return 0


def _run_seamonkey(args: argparse.Namespace) -> int:
    from ticketlens.training.data import find_data_dir

    pairs = seamonkey_tickets(find_data_dir(args.data_dir))
    report = evaluate_priorities(pairs)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    counts = ", ".join(f"{k} {v}" for k, v in report["truth_counts"].items())  # type: ignore[union-attr]
    print(f"SeaMonkey bug reports with a Bugzilla priority: {report['tickets']} ({counts})")
    print(f"  accuracy {report['accuracy']:.3f} (majority level {report['majority_baseline_accuracy']:.3f})  "
          f"macro-F1 {report['macro_f1']:.3f}  within one level {report['within_one_level']:.3f}  "
          f"Spearman(score, priority) {report['spearman_score_vs_priority']:.3f}")
    for row, cells in report["confusion"].items():  # type: ignore[union-attr]
        print(f"  {row:>16}: " + "  ".join(f"{k} {v:3d}" for k, v in cells.items()))
    return 0
