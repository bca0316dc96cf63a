"""`ticketlens eval-language`: the language field, measured.

1. Accuracy and calibration of the detected language on ``training/data/lang_eval.jsonl``
   (support messages written for ticketlens in nine European languages, with English ones
   for contrast; no public multilingual support data exists to borrow).
2. How often real English text is called another language (banking77, CLINC150's val split,
   TweetSumm's customer turns): each such miss would discount a correct English label.
3. What the English-only heads do with the non-English messages, before and after the
   discount by P(English): accuracy and mean confidence of the top label.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

LANG_EVAL_FILE = "lang_eval.jsonl"


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "eval-language",
        help="accuracy of the language field, false non-English on English sets, and the heads on other languages",
    )
    parser.add_argument("--labels", type=Path,
                        help=f"jsonl rows with text and language (default: packaged {LANG_EVAL_FILE})")
    parser.add_argument("--data-dir", help="shared datasets folder, for the English sets (default: ../shared/datasets)")
    parser.add_argument("--no-english-sets", action="store_true", help="skip the public English sets")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(func=_run)


def _summary(correct: np.ndarray, confidence: np.ndarray) -> dict[str, float]:
    from ticketlens.training.metrics import ece_noise_floor, expected_calibration_error

    probs = np.stack([confidence, 1.0 - confidence], axis=1)
    floor, p95 = ece_noise_floor(confidence)
    return {
        "n": len(correct),
        "accuracy": round(float(correct.mean()), 4),
        "mean_confidence": round(float(confidence.mean()), 4),
        "ece": round(expected_calibration_error(probs, np.where(correct, 0, 1)), 4),
        "ece_noise_floor": round(floor, 4),
        "ece_noise_p95": round(p95, 4),
    }


def evaluate_language(rows: list[dict], english_sets: dict[str, list[str]]) -> dict[str, object]:
    from ticketlens.enrichment.heads import load_head
    from ticketlens.enrichment.language import discount, get_detector
    from ticketlens.training.data import row_text
    from ticketlens.training.embed import embed

    detector = get_detector()
    texts = [row_text(r) for r in rows]
    truth = [r["language"] for r in rows]
    guesses = detector.detect(texts)
    correct = np.array([g.code == t for g, t in zip(guesses, truth, strict=True)])
    confidence = np.array([g.confidence for g in guesses])
    per_language: dict[str, list[bool]] = defaultdict(list)
    for ok, t in zip(correct, truth, strict=True):
        per_language[t].append(bool(ok))
    report: dict[str, object] = {
        "detector": detector.version,
        "own_set": _summary(correct, confidence),
        "per_language": {k: f"{sum(v)}/{len(v)}" for k, v in sorted(per_language.items())},
        "misses": [
            {"text": t, "truth": y, "detected": g.code, "confidence": g.confidence}
            for t, y, g, ok in zip(texts, truth, guesses, correct, strict=True)
            if not ok
        ],
    }
    english: dict[str, object] = {}
    for name, set_texts in english_sets.items():
        found = detector.detect(set_texts)
        codes = Counter(g.code for g in found)
        wrong = [g for g in found if g.code != "en"]
        english[name] = {
            "n": len(set_texts),
            "called_other_language": len(wrong),
            "rate": round(len(wrong) / max(len(set_texts), 1), 4),
            "mean_confidence_of_misses": round(float(np.mean([g.confidence for g in wrong])), 4) if wrong else None,
            "codes": dict(codes.most_common(6)),
        }
    report["english_sets"] = english
    # the English-only heads on the other languages, before and after the discount
    foreign = [i for i, t in enumerate(truth) if t != "en"]
    vectors = embed([texts[i] for i in foreign], cache=False)
    heads: dict[str, object] = {}
    for kind in ("intent", "sentiment"):
        head = load_head("default", kind)
        keep = [k for k, i in enumerate(foreign) if rows[i].get(kind)]
        if not keep:
            continue
        sub_texts = [texts[foreign[k]] for k in keep]
        probs = head.predict_proba(vectors[keep], sub_texts)
        english_p = [guesses[foreign[k]].english for k in keep]
        after = discount(probs, english_p)
        labels = np.array([head.labels.index(rows[foreign[k]][kind]) for k in keep])
        heads[kind] = {
            "n": len(keep),
            "accuracy": round(float(np.mean(probs.argmax(axis=1) == labels)), 4),
            "mean_confidence_before": round(float(probs.max(axis=1).mean()), 4),
            "mean_confidence_after": round(float(after.max(axis=1).mean()), 4),
            "max_confidence_after": round(float(after.max(axis=1).max()), 4),
        }
    report["heads_on_other_languages"] = heads
    return report


def _english_sets(data_dir: Path) -> dict[str, list[str]]:
    from ticketlens.training import data as tdata

    sets = {
        "banking77": [t for t, _ in tdata.load_banking77(data_dir)],
        "clinc150_val": [t for t, _ in tdata.load_clinc(data_dir)["val"]],
    }
    path = data_dir / "summarization" / "tweetsumm_dev.jsonl"
    if path.is_file():
        sets["tweetsumm_customer_turns"] = [
            turn["text"] for row in tdata.read_jsonl(path) for turn in row["turns"] if turn["role"] == "Customer"
        ]
    return sets


def _run(args: argparse.Namespace) -> int:
    from ticketlens.training import data as tdata

    rows = tdata.read_jsonl(args.labels or tdata.packaged_data(LANG_EVAL_FILE))
    rows = [r for r in rows if r.get("language")]
    if not rows:
        print("ticketlens eval-language: no rows with a language", file=sys.stderr)
        return 2
    english_sets = {} if args.no_english_sets else _english_sets(tdata.find_data_dir(args.data_dir))
    report = evaluate_language(rows, english_sets)
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return 0
    own = report["own_set"]
    assert isinstance(own, dict)
    print(f"language field ({report['detector']}) on {args.labels or LANG_EVAL_FILE}: {own['n']} messages")
    print(f"  accuracy {own['accuracy']:.3f}  mean confidence {own['mean_confidence']:.3f}  "
          f"ECE {own['ece']:.3f} (chance {own['ece_noise_floor']:.3f}, p95 {own['ece_noise_p95']:.3f})")
    print("  per language: " + ", ".join(f"{k} {v}" for k, v in report["per_language"].items()))  # type: ignore[union-attr]
    for miss in report["misses"]:  # type: ignore[union-attr]
        print(f"  miss: {miss['truth']} read as {miss['detected']} ({miss['confidence']:.2f}): {miss['text']!r}")
    for name, figures in report["english_sets"].items():  # type: ignore[union-attr]
        print(f"  English {name}: {figures['called_other_language']}/{figures['n']} called another language "
              f"({figures['rate']:.2%}; their mean confidence {figures['mean_confidence_of_misses']})")
    for kind, figures in report["heads_on_other_languages"].items():  # type: ignore[union-attr]
        print(f"  {kind} head on the {figures['n']} non-English messages: accuracy {figures['accuracy']:.3f}, "
              f"mean confidence {figures['mean_confidence_before']:.3f} -> {figures['mean_confidence_after']:.3f} "
              f"after the discount (highest {figures['max_confidence_after']:.3f})")
    return 0
