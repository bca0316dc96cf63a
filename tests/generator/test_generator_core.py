"""The generation core: templates, truth, determinism. Pure, no I/O."""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterator

import pytest

from ticketlens.generator import style
from ticketlens.generator.core import DEFAULT_INTENT_WEIGHTS, TicketFactory, check_weights
from ticketlens.generator.model import INTENTS, TONES, sentiment_of
from ticketlens.generator.templates import BY_INTENT, TEMPLATES
from ticketlens.generator.vocabulary import VOCABULARY, is_known
from ticketlens.schemas import RawTicket, parse_ticket

START = 1_763_888_400  # 2025-11-23T09:00:00Z
SKEWED = {
    "login_issue": 3.0,
    "account_issue": 1.0,
    "payment_issue": 1.0,
    "billing_issue": 2.0,
    "bug_report": 4.0,
    "feature_request": 1.0,
    "security_concern": 0.5,
    "general_inquiry": 2.0,
    "other": 1.5,
}


@pytest.fixture(scope="module")
def ten_thousand() -> list[RawTicket]:
    """GIVEN 10,000 tickets from one seeded factory with skewed intent weights."""
    factory = TicketFactory(seed="core-tests", intent_weights=SKEWED)
    return [factory.make(START + 9 * i) for i in range(10_000)]


def _template_strings() -> Iterator[tuple[str, str]]:
    for t in TEMPLATES:
        for field in ("subjects", "bodies", "short", "details"):
            for text in getattr(t, field):
                yield f"{t.name}.{field}", text
    pools: list[tuple[str, tuple[str, ...]]] = [
        ("SIGN_OFFS", style.SIGN_OFFS), ("GENERIC_SUBJECTS", style.GENERIC_SUBJECTS)
    ]
    pools += [(f"GREETINGS[{k}]", v) for k, v in style.GREETINGS.items()]
    pools += [(f"OPENERS{k}", v) for k, v in style.OPENERS.items()]
    pools += [(f"CLOSERS{k}", v) for k, v in style.CLOSERS.items()]
    pools += [(f"CONTEXT_DETAILS[{k}]", v) for k, v in style.CONTEXT_DETAILS.items()]
    pools += [(f"STAKES[{k}]", v[1]) for k, v in style.STAKES.items()]
    for where, texts in pools:
        for text in texts:
            yield where, text


def test_every_placeholder_names_a_vocabulary_entry() -> None:
    # GIVEN every template and style string
    # WHEN its placeholders and alternation groups are parsed
    # THEN each placeholder is known and no bracket is nested or left open
    for where, text in _template_strings():
        for name in style.placeholders(text):
            assert is_known(name), f"{where}: unknown placeholder {{{name}}}"
        stripped = re.sub(r"\[[^\[\]]*\]", "", text)
        assert "[" not in stripped and "]" not in stripped, f"{where}: unbalanced or nested [ ]: {text!r}"


def test_catalogue_is_at_least_as_rich_as_the_issue_asks() -> None:
    # GIVEN the template catalogue
    # THEN every intent of the taxonomy has at least 8 templates, 19+ in all, and 30+ variable types are used
    for intent in INTENTS:
        assert len(BY_INTENT[intent]) >= 8, intent
    assert len(TEMPLATES) >= 19
    used = {name.removesuffix("2") for _, text in _template_strings() for name in style.placeholders(text)}
    assert len(used) >= 30 and len(VOCABULARY) >= 30
    assert len({t.name for t in TEMPLATES}) == len(TEMPLATES)


def test_ten_thousand_tickets_render_without_leftover_markup(ten_thousand: list[RawTicket]) -> None:
    # GIVEN 10,000 generated tickets
    # THEN no placeholder, alternation marker or seam (double space, empty line run) is left
    for ticket in ten_thousand:
        for text in (ticket.subject, ticket.body):
            assert not re.search(r"[{}\[\]|]", text), (ticket.metadata.model_extra, text)
            assert "  " not in text and "\n\n\n" not in text, text
        assert ticket.body


def test_generated_tickets_validate_as_raw_tickets(ten_thousand: list[RawTicket]) -> None:
    # GIVEN generated tickets serialised as the sinks write them
    # WHEN each is parsed back like any producer's upload
    # THEN it is a RawTicket with int created_at, labels from the taxonomy, and a key-safe id
    for ticket in ten_thousand[:2000]:
        parsed = parse_ticket(ticket.model_dump_json(exclude_none=True), where="test")
        assert isinstance(parsed, RawTicket), parsed
        assert isinstance(parsed.created_at, int)
        labels = parsed.metadata.labels
        assert labels is not None and set(labels) == {"intent", "urgency", "sentiment"}
        assert labels["intent"] in INTENTS
        assert labels["urgency"] in style.URGENCY_ORDER
        assert labels["sentiment"] in ("POSITIVE", "NEGATIVE", "NEUTRAL")


def test_label_distribution_follows_configured_weights(ten_thousand: list[RawTicket]) -> None:
    # GIVEN tickets generated with skewed intent weights
    # WHEN intent labels are counted
    # THEN each share is within 4 standard errors of its configured weight
    counts = Counter(t.metadata.labels["intent"] for t in ten_thousand)  # type: ignore[index]
    total, n = sum(SKEWED.values()), len(ten_thousand)
    for intent, weight in SKEWED.items():
        p = weight / total
        assert abs(counts[intent] / n - p) < 4 * math.sqrt(p * (1 - p) / n), (intent, counts[intent], p)


def test_zero_weight_intents_never_appear() -> None:
    # GIVEN weights that allow only two intents
    factory = TicketFactory(seed=3, intent_weights={"security_concern": 1, "other": 1})
    # WHEN 500 tickets are made
    intents = {factory.make(START).metadata.labels["intent"] for _ in range(500)}  # type: ignore[index]
    # THEN only those two intents appear
    assert intents == {"security_concern", "other"}


def test_bad_weights_are_rejected_with_the_reason() -> None:
    with pytest.raises(ValueError, match="unknown intent"):
        check_weights({"login": 1})
    with pytest.raises(ValueError, match="at least one"):
        check_weights({"other": 0})
    with pytest.raises(ValueError, match="zero or positive"):
        check_weights({"other": -1})
    assert check_weights(DEFAULT_INTENT_WEIGHTS) == dict(DEFAULT_INTENT_WEIGHTS)


def test_same_seed_gives_the_same_tickets_and_another_seed_does_not() -> None:
    # GIVEN two factories with the same seed and one with another
    def batch(seed: str) -> list[str]:
        factory = TicketFactory(seed=seed)
        return [factory.make(START + i).model_dump_json() for i in range(300)]

    # THEN the same seed reproduces every byte, a different seed does not
    assert batch("alpha") == batch("alpha")
    assert batch("alpha") != batch("beta")


def test_text_varies_in_tone_length_casing_and_spelling(ten_thousand: list[RawTicket]) -> None:
    # GIVEN 10,000 tickets
    bodies = [t.body for t in ten_thousand]
    one_liners = sum("\n" not in b and len(b) < 160 for b in bodies)
    multi_paragraph = sum(b.count("\n\n") >= 3 for b in bodies)
    lowercase = sum(b == b.lower() for b in bodies)
    tones = Counter(t.metadata.model_extra["generator"]["tone"] for t in ten_thousand)  # type: ignore[index]
    # THEN one-liners and several-paragraph tickets, lowercased chat, all tones, and both
    # subject-less and shouted subjects all show up in quantity
    assert one_liners > 1000 and multi_paragraph > 1000 and lowercase > 300
    assert set(tones) == set(TONES) and min(tones.values()) > 500
    assert sum(not t.subject for t in ten_thousand) > 300
    assert sum(t.subject.isupper() for t in ten_thousand) > 50
    # AND misspellings appear (a few common ones, after casing)
    text = " ".join(bodies).lower()
    assert sum(text.count(w) for w in ("recieve", "acount", "pasword", "becuase", "definately", " pls ")) > 20


def test_no_intent_can_be_guessed_from_sentiment_or_vice_versa(ten_thousand: list[RawTicket]) -> None:
    # GIVEN 10,000 labelled tickets
    sentiments: dict[str, set[str]] = {i: set() for i in INTENTS}
    urgencies: dict[str, set[str]] = {i: set() for i in INTENTS}
    for t in ten_thousand:
        labels = t.metadata.labels or {}
        sentiments[labels["intent"]].add(labels["sentiment"])
        urgencies[labels["intent"]].add(labels["urgency"])
    # THEN each intent carries at least two sentiments, and all but 'other' at least two urgencies
    for intent in INTENTS:
        assert len(sentiments[intent]) >= 2, (intent, sentiments[intent])
        if intent != "other":
            assert len(urgencies[intent]) >= 2, (intent, urgencies[intent])
    assert urgencies["other"] == {"low"}


def test_urgency_truth_never_drops_below_the_template_and_priority_is_only_a_hint(
    ten_thousand: list[RawTicket],
) -> None:
    base = {t.name: t.urgency for t in TEMPLATES}
    order = style.URGENCY_ORDER
    for t in ten_thousand:
        template = t.metadata.model_extra["generator"]["template"]  # type: ignore[index]
        assert order.index(t.metadata.labels["urgency"]) >= order.index(base[template])  # type: ignore[index]
    with_priority = [t for t in ten_thousand if t.priority]
    disagree = sum(t.priority != t.metadata.labels["urgency"] for t in with_priority)  # type: ignore[index]
    assert 0.2 < disagree / len(with_priority) < 0.8
    assert 0.2 < len(with_priority) / len(ten_thousand) < 0.8


@pytest.mark.parametrize(
    ("kind", "tone", "expected"),
    [
        ("complaint", "polite", "NEGATIVE"),  # a politely reported bug is still a complaint
        ("complaint", "grateful", "NEGATIVE"),
        ("request", "neutral", "NEUTRAL"),
        ("request", "polite", "NEUTRAL"),  # "thanks in advance" is manners, not praise
        ("request", "furious", "NEGATIVE"),
        ("request", "grateful", "POSITIVE"),
        ("praise", "neutral", "POSITIVE"),  # "thanks, fixed"
        ("noise", "neutral", "NEUTRAL"),
    ],
)
def test_sentiment_truth_follows_content_and_tone(kind: str, tone: str, expected: str) -> None:
    assert sentiment_of(kind, tone) == expected  # type: ignore[arg-type]


def test_tickets_are_json_clean(ten_thousand: list[RawTicket]) -> None:
    # GIVEN a ticket as JSON THEN it holds only the RawTicket fields plus metadata
    record = json.loads(ten_thousand[0].model_dump_json(exclude_none=True))
    assert set(record) <= {"ticket_id", "subject", "body", "created_at", "customer_id", "priority", "metadata"}
