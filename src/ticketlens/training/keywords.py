"""Keyword baselines (what the original demo did): the heads must clearly beat these."""

from __future__ import annotations

import re
from collections.abc import Sequence

# First matching rule wins, in this order (the demo's keyword intents, a little extended).
INTENT_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("security_concern", ("hack", "fraud", "stolen", "phishing", "scam", "unauthori", "suspicious", "didn't make", "don't recogni", "identity theft")),
    ("login_issue", ("login", "log in", "sign in", "signin", "password", "2fa", "locked out", "verification code", "pin ")),
    ("billing_issue", ("bill", "invoice", "refund", "charged", "fee", "overcharg", "statement")),
    ("payment_issue", ("payment", "pay ", "declined", "transfer", "checkout", "charge")),
    ("bug_report", ("bug", "error", "crash", "broken", "not working", "doesn't work", "fails", "failed", "freez", "exception")),
    ("feature_request", ("feature", "please add", "would be nice", "would be great", "suggestion", "wish", "support for")),
    ("account_issue", ("account", "profile", "address", "cancel", "close my", "upgrade", "downgrade", "membership")),
)
QUESTION = re.compile(r"\?|^(how|what|when|where|which|who|why|do you|can i|is there|are there)\b", re.IGNORECASE)

POSITIVE_WORDS = ("thank", "great", "love", "awesome", "excellent", "happy", "appreciate", "perfect", "amazing", "best", "brilliant", "fantastic", "good")
NEGATIVE_WORDS = ("not ", "n't", "never", "terrible", "awful", "worst", "angry", "disappoint", "broken", "error", "fail", "crash", "still", "problem", "issue", "wrong", "delay", "hack", "stolen", "useless", "annoy", "ridiculous")


def keyword_intent(text: str) -> str:
    lowered = f" {text.lower()} "
    for label, words in INTENT_RULES:
        if any(word in lowered for word in words):
            return label
    return "general_inquiry" if QUESTION.search(text.strip()) else "other"


def keyword_sentiment(text: str) -> str:
    lowered = f" {text.lower()} "
    pos = sum(lowered.count(word) for word in POSITIVE_WORDS)
    neg = sum(lowered.count(word) for word in NEGATIVE_WORDS)
    if pos > neg:
        return "POSITIVE"
    if neg > pos:
        return "NEGATIVE"
    return "NEUTRAL"


def keyword_predict(kind: str, texts: Sequence[str]) -> list[str] | None:
    """The baseline's labels for a head kind, or None when there is no baseline for it."""
    if kind == "intent":
        return [keyword_intent(t) for t in texts]
    if kind == "sentiment":
        return [keyword_sentiment(t) for t in texts]
    return None
