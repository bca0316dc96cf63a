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


# Scale: low < 1.0 <= medium < 2.0 <= high < 3.0 <= critical. A ticket's level is set by
# its highest stake (the intent's base or a stake rule's level); every further stake rule
# that fires adds STACKING_POINTS, and the small signals below nudge it within or across a band.
STAKE_RULES: tuple[Rule, ...] = (
    _rule("outage", 3.5, "many users lose service at once: every minute costs all of them",
          r"outage",
          r"(?:site|service|app|system|server|platform|website|api|everything)\s+(?:is\s+|are\s+)?(?:completely\s+)?down",
          r"down for (?:everyone|all|us)", r"production (?:is )?down",
          r"(?:nobody|no one|none of us)(?: \w+){0,4}? (?:can|could|is able to)",
          r"none of (?:our|my|the)",
          r"(?:whole|entire) (?:team|company|org|organi[sz]ation|office|staff|department|school|firm|workspace|tenant)",
          r"(?:company|org|organi[sz]ation|office)[- ]wide",
          r"all (?:of )?(?:our|my) (?:users|customers|staff|team|employees|agents|stores|sites)",
          r"everyone (?:at|in|on)", r"\d+ (?:people|users|staff|employees|agents) (?:can'?t|cannot|are blocked)",
          r"losing (?:money|sales|revenue|orders|customers)",
          r"(?:customers|clients) can'?t (?:pay|order|check ?out|buy|log ?in)",
          r"502", r"503", r"500 (?:error|internal)"),
    _rule("security_incident", 3.2,
          "an incident at the organisation's level (ransomware, leaked customer data) spreads while it waits",
          r"ransomware", r"malware", r"data breach", r"security incident",
          r"(?:customer|client|patient|user|employee)s?['’]? (?:data|records|details|information|passwords) "
          r"(?:was |were |has been |have been |got )?(?:leaked|exposed|stolen|compromised|published)",
          r"(?:admin|administrator|root|company|corporate) account (?:was |has been |got )?"
          r"(?:hacked|compromised|taken over)",
          r"(?:all|many|several) (?:of )?(?:our )?accounts (?:were |have been |got )?(?:hacked|compromised)"),
    _rule("security_breach", 2.6, "account takeover or data exposure: harm grows until contained",
          r"hack(?:ed|er|ers)?", r"breach(?:ed)?", r"compromised", r"unauthori[sz]ed", r"fraud(?:ulent)?",
          r"stolen", r"phishing", r"identity theft", r"someone (?:else )?(?:has )?(?:logged|accessed|used|changed)",
          r"(?:didn'?t|did not|never) (?:make|authori[sz]e|recogni[sz]e|request)", r"not recogni[sz]ed?",
          r"suspicious (?:activity|login|sign-?in|transaction|charge|email)s?", r"data leak", r"leaked"),
    _rule("money_lost", 2.5, "the customer is out of pocket: refunds get harder with time",
          r"charged (?:me )?twice", r"double[- ]charged", r"charged (?:me )?again",
          r"money (?:is )?(?:missing|gone|lost)",
          r"lost (?:my )?money", r"overcharged", r"wrong amount", r"took (?:my )?money", r"not (?:been )?refunded",
          r"still (?:haven'?t|have not) (?:received|got(?:ten)?) (?:my )?(?:refund|money)", r"deducted twice",
          r"charged .{0,40}?twice", r"(?:left|taken from|gone from) my (?:account|balance|bank)",
          r"unauthori[sz]ed (?:transfer|payment|charge|withdrawal|transaction)s?",
          r"made a (?:transfer|payment|purchase)", r"never (?:reached|arrived)",
          r"bounced back"),
    _rule("data_loss", 3.2, "lost customer data may be unrecoverable if not caught now",
          r"data loss",
          r"lost (?:all|my|our|\d+) (?:\w+ )?(?:data|files|work|events|notes|projects|contacts|documents|records|"
          r"photos|reports|dashboards|emails|messages|invoices|orders|history|entries|backups)",
          r"(?:all|my|our|\d+ of (?:my|our|the)|(?:all|most|half|some) of (?:my|our|the)) (?:\w+ )?"
          r"(?:data|files|work|events|notes|projects|contacts|documents|records|photos|reports|dashboards|emails|messages|"
          r"invoices|orders|history|entries|backups) (?:have |has |are |is |were |got )?"
          r"(?:just |all |now |completely )?(?:disappeared|vanished|gone|missing|deleted|wiped|erased)"),
    _rule("blocked", 2.5, "the customer cannot do their work at all",
          r"can'?t do (?:any|my) (?:work|job)", r"blocking (?:me|us)", r"blocked from", r"locked out",
          r"completely (?:stuck|broken|blocked)", r"not working at all", r"nothing works", r"can'?t work",
          r"suspended", r"read-only", r"can'?t until this is fixed", r"rely on (?:it|this|you) for",
          r"crash(?:es|ed|ing)? (?:every|constantly|on startup|on launch)"),
    _rule("deadline", 2.5, "a stated deadline turns a normal request into a race",
          r"(?<!not )(?<!not very )(?<!isn't )urgent(?:ly)?", r"asap", r"immediately", r"right away", r"emergency",
          r"(?:hard )?deadline", r"tonight", r"by tomorrow", r"within the hour", r"in \d+ (?:minutes|hours)",
          r"time[- ]sensitive", r"(?:this|tomorrow) (?:morning|afternoon|evening)", r"before noon",
          r"end of (?:the )?day",
          r"(?:demo|meeting|presentation|flight|call|pitch|deadline|launch|event) (?:is )?"
          r"(?:today|tonight|tomorrow|in \d+)",
          r"before (?:my|our|the) (?:meeting|demo|launch|deadline|presentation|flight|board|call|pitch)",
          r"(?:by|before|until|no later than) (?:today|tonight|tomorrow|end of (?:the )?day|eod|close of business|cob)",
          r"(?:response|reply|answer|fix|resolution|solution|update|callback|refund) (?:by |before )?(?:today|tonight)",
          r"(?:need|expect|want|must have|require)\w*(?: \w+){0,5} (?:today|tonight)"),
    _rule("stated_priority", 2.5, "the customer states the priority in the text; one signal, not the verdict",
          r"(?:priority|severity|sev|prio|urgency)\s*[:=-]?\s*(?:p?[01]|critical|urgent|highest|blocker|high)",
          r"sev ?[-:]?1", r"p[01] (?:issue|incident|ticket|bug)"),
    _rule("soon", 1.5, "a date later this week or month makes it worth planning, not rushing",
          r"this week", r"next week", r"by (?:monday|tuesday|wednesday|thursday|friday|the end of)",
          r"end of (?:the )?(?:month|week|quarter)", r"(?:renewal|budget review) is coming"),
)
# A reason to wait: subtracted whatever else fired.
LOW_STAKES = _rule(
    "low_stakes", -1.0, "wishes, questions and cosmetics can wait without harm",
    r"feature request", r"would be (?:nice|great|cool|helpful|lovely)", r"it would help", r"suggest(?:ion)?",
    r"wish(?:list)?", r"just (?:wondering|curious|a question)", r"no rush", r"no hurry", r"not (?:very )?urgent",
    r"whenever you (?:can|get a chance)", r"cosmetic", r"typo", r"misspell(?:ed|ing)?", r"colou?r", r"font",
    r"alignment", r"misaligned", r"dark mode", r"minor",
)
ESCALATION = _rule(
    "escalation", 0.3, "a customer threatening to leave or escalate needs a faster answer",
    r"cancel(?:l?ing)? (?:my|our) (?:account|subscription|contract)", r"switch(?:ing)? to", r"lawyer",
    r"legal action", r"chargeback", r"third time", r"still (?:not|no)",
)
TEXT_RULES: tuple[Rule, ...] = (*STAKE_RULES, LOW_STAKES, ESCALATION)
STACKING_POINTS = 0.2  # each stake beyond the highest: two problems at once are worse than one

# What the intent alone implies, before the text says more.
INTENT_POINTS: dict[str, float] = {
    "security_concern": 2.2,
    "payment_issue": 1.5,
    "login_issue": 1.3,
    "bug_report": 1.3,
    "billing_issue": 1.1,
    "account_issue": 0.8,
    "general_inquiry": 0.4,
    "feature_request": 0.3,
    "other": 0.0,
}
# The customer's own priority is one signal among several: it nudges, it does not decide.
PRIORITY_POINTS: dict[str, float] = {"critical": 0.5, "high": 0.25, "medium": 0.0, "low": -0.15}
NEGATIVE_POINTS = 0.15  # an unhappy customer, weighted by the sentiment's probability
SHOUTING_POINTS = 0.1  # "!!" or a run of capitals: distress, but not impact

THRESHOLDS: dict[Urgency, float] = {"medium": 1.0, "high": 2.0, "critical": 3.0}
# How fast certainty grows with distance from the neighbouring bands, and the share of
# probability spread evenly over all levels because keyword rules are never certain. Both are
# fitted by `ticketlens eval-urgency` (lowest log-loss on labelled tickets; docs/quality.md).
DEFAULT_SLOPE = 3.0
DEFAULT_FLOOR = 0.125

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
    reasons: list[str] = [f"intent:{intent}"]
    stakes = [INTENT_POINTS.get(intent, 0.0)]
    for rule in STAKE_RULES:
        if rule.pattern.search(text):
            stakes.append(rule.points)
            reasons.append(rule.name)
    stakes.sort(reverse=True)
    score = stakes[0] + STACKING_POINTS * sum(1 for points in stakes[1:] if points >= THRESHOLDS["high"])
    for rule in (LOW_STAKES, ESCALATION):
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


def level_probabilities(
    score: float, slope: float = DEFAULT_SLOPE, floor: float = DEFAULT_FLOOR
) -> dict[Urgency, float]:
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
    return {level: (1 - floor) * weight / total + floor / len(bands) for level, weight in weights.items()}


def assess(
    texts: Sequence[str],
    intents: Sequence[str],
    negative_probabilities: Sequence[float],
    priorities: Sequence[str | None],
    slope: float = DEFAULT_SLOPE,
    floor: float = DEFAULT_FLOOR,
    no_action: Sequence[float | None] | None = None,
) -> list[UrgencyResult]:
    """Urgency for a batch of tickets.

    ``no_action`` holds, per ticket, the probability that it needs no answer when the ticket
    is flagged (spam, an automatic reply, a thank-you note), else None. A flagged ticket is
    ``low`` whatever its words say ("URGENT: your account will be closed" is phishing), with
    the confidence that it is low: flagged correctly, or low by the rules anyway."""
    flags = no_action if no_action is not None else [None] * len(texts)
    results = []
    rows = zip(texts, intents, negative_probabilities, priorities, flags, strict=True)
    for text, intent, negative, priority, flag in rows:
        score, reasons = urgency_score(text, intent, negative, priority)
        probabilities = level_probabilities(score, slope, floor)
        if flag is not None:
            confidence = flag + (1.0 - flag) * probabilities["low"]
            results.append(UrgencyResult("low", confidence, score, (*reasons, "no_action")))
            continue
        level = max(URGENCY_LEVELS, key=lambda name: probabilities[name])
        results.append(UrgencyResult(level, probabilities[level], score, reasons))
    return results


@dataclass(frozen=True)
class Contribution:
    """One reason a ticket got its points: what fired, on which words, and why it matters."""

    rule: str
    points: float
    why: str
    matched: str = ""  # the words in the text that fired a text rule
    counted: bool = True  # False for a stake below the highest one that does not stack
    # For the sentiment nudge when P(NEGATIVE) is known only within bounds: the most it
    # could have added beyond ``points``.
    points_max: float | None = None


@dataclass(frozen=True)
class Explanation:
    """Why a ticket's text, intent, sentiment and priority land in an urgency band.

    ``score_max`` differs from ``score`` only when P(NEGATIVE) is known within bounds.
    """

    score: float
    score_max: float
    level: Urgency
    level_max: Urgency
    contributions: tuple[Contribution, ...]
    thresholds: tuple[tuple[Urgency, float], ...]


_BANDS: tuple[tuple[Urgency, float], ...] = tuple(
    (level, THRESHOLDS[level]) for level in ("medium", "high", "critical")
)


def level_of(score: float) -> Urgency:
    """The band a score falls in (the most probable level, as ``assess`` picks it)."""
    for level, threshold in reversed(_BANDS):
        if score >= threshold:
            return level
    return "low"


def explain(
    text: str, intent: str, negative_probability: float, priority: str | None,
    negative_probability_max: float | None = None,
) -> Explanation:
    """The rules behind :func:`urgency_score`, with the words that fired each one.

    A stored record keeps only the winning sentiment's confidence, so P(NEGATIVE) may be
    known only within bounds: pass the lower one and ``negative_probability_max``.

    Same arithmetic as ``urgency_score`` (a test holds the two to the same score and
    reasons), spelled out for a reader: the board's ticket page shows it.
    """
    stakes: list[Contribution] = [
        Contribution(f"intent:{intent}", INTENT_POINTS.get(intent, 0.0),
                     "what this intent implies before the text says more")
    ]
    for rule in STAKE_RULES:
        match = rule.pattern.search(text)
        if match:
            stakes.append(Contribution(rule.name, rule.points, rule.why, match.group(0)))
    ranked = sorted(stakes, key=lambda c: c.points, reverse=True)
    highest = ranked[0]
    parts: list[Contribution] = []
    for c in stakes:
        if c is highest:
            parts.append(c)
        elif c.points >= THRESHOLDS["high"]:
            parts.append(Contribution(c.rule, STACKING_POINTS, f"{c.why} (a further high stake: +{STACKING_POINTS})",
                                      c.matched))
        else:
            parts.append(Contribution(c.rule, c.points, f"{c.why} (below the highest stake: not added)", c.matched,
                                      counted=False))
    for rule in (LOW_STAKES, ESCALATION):
        match = rule.pattern.search(text)
        if match:
            parts.append(Contribution(rule.name, rule.points, rule.why, match.group(0)))
    if priority:
        parts.append(Contribution(f"priority:{priority}", PRIORITY_POINTS[priority],
                                  "the customer's own priority: one signal, not the answer"))
    why_negative = f"an unhappy customer is a little more urgent (+{NEGATIVE_POINTS} x P(NEGATIVE)"
    high = max(negative_probability, negative_probability_max or 0.0)
    if high > negative_probability:
        parts.append(Contribution("sentiment", NEGATIVE_POINTS * negative_probability,
                                  f"{why_negative}, P between {negative_probability:.2f} and {high:.2f})",
                                  points_max=NEGATIVE_POINTS * (high - negative_probability)))
    elif negative_probability > 0:
        parts.append(Contribution("sentiment", NEGATIVE_POINTS * negative_probability,
                                  f"{why_negative} = {negative_probability:.2f})"))
    shouting = _SHOUTING.search(text)
    if shouting:
        parts.append(Contribution("shouting", SHOUTING_POINTS, "distress, not impact", shouting.group(0)))
    score = sum(c.points for c in parts if c.counted)
    score_max = score + sum((c.points_max or 0.0) for c in parts)
    return Explanation(score, score_max, level_of(score), level_of(score_max), tuple(parts), _BANDS)


def _rules_version() -> str:
    import hashlib

    spec = repr(
        (
            [(r.name, r.points, r.pattern.pattern) for r in TEXT_RULES],
            STACKING_POINTS,
            INTENT_POINTS,
            PRIORITY_POINTS,
            NEGATIVE_POINTS,
            SHOUTING_POINTS,
            THRESHOLDS,
            DEFAULT_SLOPE,
            DEFAULT_FLOOR,
        )
    )
    return hashlib.sha256(spec.encode()).hexdigest()[:8]


RULES_VERSION = _rules_version()
