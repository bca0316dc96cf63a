"""Urgency: documented rules over the text, the predicted intent and sentiment, and the
customer's own priority.

There is no public labelled urgency data, so urgency is a definition, not a model:
each rule adds points for a reason a support lead would give, the points land on an
ordinal scale of bands, and the distance from the score to each band turns into a
probability (its slope is the one number fitted, for calibration). The rules table below
is the documentation; docs/urgency.md explains the reasons.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ticketlens.schemas import URGENCY_LEVELS, Urgency


@dataclass(frozen=True)
class Rule:
    name: str
    points: float
    pattern: re.Pattern[str]
    why: str


def _rule(name: str, points: float, why: str, *phrases: str) -> Rule:
    alternatives = "|".join(phrases)
    return Rule(name, points, re.compile(rf"(?<![\w])(?:{alternatives})(?![\w])", re.IGNORECASE), why)


# Text rules. Points are on the same scale as the thresholds below:
# low < 1.0 <= medium < 2.0 <= high < 3.0 <= critical.
TEXT_RULES: tuple[Rule, ...] = (
    _rule("outage", 2.0, "service down for many users: every minute costs all customers",
          r"outage", r"(?:site|service|app|system|server|platform|website|api|everything)\s+(?:is\s+|are\s+)?(?:completely\s+)?down",
          r"down for (?:everyone|all|us)", r"production (?:is )?down", r"nobody can", r"no one can",
          r"all (?:of )?(?:our|my) (?:users|customers|staff|team)", r"entire (?:team|company|organi[sz]ation)",
          r"502", r"503", r"500 (?:error|internal)"),
    _rule("security_breach", 2.0, "account takeover or data exposure: harm grows until contained",
          r"hack(?:ed|er|ers)?", r"breach(?:ed)?", r"compromised", r"unauthori[sz]ed", r"fraud(?:ulent)?",
          r"stolen", r"phishing", r"identity theft", r"someone (?:else )?(?:logged|accessed|used)",
          r"(?:didn'?t|did not|never) (?:make|authori[sz]e|recogni[sz]e)", r"not recogni[sz]ed?",
          r"suspicious (?:activity|login|transaction|charge)s?", r"data leak", r"leaked"),
    _rule("money_lost", 1.5, "the customer is out of pocket: refunds get harder with time",
          r"charged (?:me )?twice", r"double[- ]charged", r"charged (?:me )?again", r"money (?:is )?(?:missing|gone|lost)",
          r"lost (?:my )?money", r"overcharged", r"wrong amount", r"took (?:my )?money", r"not (?:been )?refunded",
          r"still (?:haven'?t|have not) (?:received|got(?:ten)?) (?:my )?(?:refund|money)", r"deducted"),
    _rule("blocked", 1.5, "the customer cannot do their work at all",
          r"(?:can'?t|cannot|can not|unable to|not able to) (?:log ?in|login|sign ?in|access|use|work|pay|withdraw|transfer|get in)",
          r"locked out", r"blocked", r"stuck", r"(?:is|are|was) frozen", r"completely broken", r"not working at all",
          r"nothing works", r"crash(?:es|ed|ing)? (?:every|constantly|on startup|on launch)"),
    _rule("deadline", 1.0, "a stated deadline turns a normal request into a race",
          r"(?<!not )(?<!not very )(?<!isn't )urgent(?:ly)?", r"asap", r"immediately", r"right away", r"right now", r"emergency", r"deadline",
          r"today", r"tonight", r"by tomorrow", r"within the hour", r"in \d+ (?:minutes|hours)", r"time[- ]sensitive",
          r"before (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|the (?:meeting|demo|launch|deadline))"),
    _rule("escalation", 0.5, "a customer threatening to leave or escalate needs a fast answer",
          r"cancel(?:l?ing)? (?:my|our) (?:account|subscription|contract)", r"switch(?:ing)? to", r"lawyer", r"legal action",
          r"chargeback", r"unacceptable", r"ridiculous", r"furious", r"worst", r"third time", r"still (?:not|no)"),
    _rule("low_stakes", -1.0, "wishes, questions and cosmetics can wait without harm",
          r"feature request", r"would be (?:nice|great|cool|helpful)", r"it would help", r"suggest(?:ion)?",
          r"wish(?:list)?", r"just (?:wondering|curious|a question)", r"no rush", r"not (?:very )?urgent", r"whenever you (?:can|get a chance)",
          r"cosmetic", r"typo", r"misspell(?:ed|ing)?", r"colou?r", r"font", r"alignment", r"dark mode", r"minor"),
)

# What the intent alone implies, before the text says more.
INTENT_POINTS: dict[str, float] = {
    "security_concern": 2.0,
    "login_issue": 1.5,
    "payment_issue": 1.5,
    "bug_report": 1.0,
    "billing_issue": 1.0,
    "account_issue": 1.0,
    "general_inquiry": 0.0,
    "feature_request": -0.25,
    "other": -0.5,
}
# The customer's own priority is one signal among several, worth about one rule.
PRIORITY_POINTS: dict[str, float] = {"critical": 0.75, "high": 0.5, "medium": 0.0, "low": -0.5}
NEGATIVE_POINTS = 0.5  # an unhappy customer, weighted by the sentiment's probability
SHOUTING_POINTS = 0.25  # "!!!" or a run of capitals

THRESHOLDS: dict[Urgency, float] = {"medium": 1.0, "high": 2.0, "critical": 3.0}
# How fast certainty grows with distance from the neighbouring bands.
DEFAULT_SLOPE = 2.0

_SHOUTING = re.compile(r"!!|\b[A-Z]{4,}\b(?:\s+\b[A-Z]{2,}\b){1,}")


@dataclass(frozen=True)
class UrgencyResult:
    level: Urgency
    confidence: float
    score: float
    reasons: tuple[str, ...]


def urgency_score(
    text: str, intent: str, negative_probability: float, priority: str | None
) -> tuple[float, tuple[str, ...]]:
    """Points for one ticket and the names of the rules that fired."""
    score = INTENT_POINTS.get(intent, 0.0)
    reasons: list[str] = [f"intent:{intent}"]
    for rule in TEXT_RULES:
        if rule.pattern.search(text):
            score += rule.points
            reasons.append(rule.name)
    if priority:
        score += PRIORITY_POINTS[priority]
        reasons.append(f"priority:{priority}")
    score += NEGATIVE_POINTS * negative_probability
    if _SHOUTING.search(text):
        score += SHOUTING_POINTS
        reasons.append("shouting")
    return score, tuple(reasons)


def level_probabilities(score: float, slope: float = DEFAULT_SLOPE) -> dict[Urgency, float]:
    """Probability of each level: the further the score sits from a level's band, the less
    likely that level (softmax of -slope x distance). The most likely level is always the
    band the score falls in; at a band edge the two neighbours tie."""
    bands: dict[Urgency, tuple[float, float]] = {
        "low": (-math.inf, THRESHOLDS["medium"]),
        "medium": (THRESHOLDS["medium"], THRESHOLDS["high"]),
        "high": (THRESHOLDS["high"], THRESHOLDS["critical"]),
        "critical": (THRESHOLDS["critical"], math.inf),
    }
    weights = {
        level: math.exp(-slope * max(low - score, 0.0, score - high)) for level, (low, high) in bands.items()
    }
    total = sum(weights.values())
    return {level: weight / total for level, weight in weights.items()}


def assess(
    texts: Sequence[str],
    intents: Sequence[str],
    negative_probabilities: Sequence[float],
    priorities: Sequence[str | None],
    slope: float = DEFAULT_SLOPE,
) -> list[UrgencyResult]:
    """Urgency for a batch of tickets."""
    results = []
    for text, intent, negative, priority in zip(texts, intents, negative_probabilities, priorities, strict=True):
        score, reasons = urgency_score(text, intent, negative, priority)
        probabilities = level_probabilities(score, slope)
        level = max(URGENCY_LEVELS, key=lambda name: probabilities[name])
        results.append(UrgencyResult(level, probabilities[level], score, reasons))
    return results


def _rules_version() -> str:
    import hashlib

    spec = repr(
        (
            [(r.name, r.points, r.pattern.pattern) for r in TEXT_RULES],
            INTENT_POINTS,
            PRIORITY_POINTS,
            NEGATIVE_POINTS,
            SHOUTING_POINTS,
            THRESHOLDS,
        )
    )
    return hashlib.sha256(spec.encode()).hexdigest()[:8]


RULES_VERSION = _rules_version()
