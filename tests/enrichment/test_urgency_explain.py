"""``urgency.explain`` spells out the same arithmetic as ``urgency_score``: same score, same
rules, and the words that fired each one."""

from __future__ import annotations

import random

import pytest

from ticketlens.enrichment.urgency import explain, level_of, urgency_score
from ticketlens.generator import TicketFactory
from ticketlens.schemas import DEFAULT_INTENTS


def test_explanation_adds_up_to_the_score_on_generated_tickets() -> None:
    # GIVEN 400 generated tickets with random intents, priorities and P(NEGATIVE)
    factory = TicketFactory(seed="explain")
    rng = random.Random(11)
    for n in range(400):
        ticket = factory.make(1_763_856_000 + n)
        intent = rng.choice(DEFAULT_INTENTS)
        negative = rng.random()
        # WHEN the score is computed and explained
        score, reasons = urgency_score(ticket.text, intent, negative, ticket.priority)
        explained = explain(ticket.text, intent, negative, ticket.priority)
        # THEN the counted contributions add up to the score, and every reason is there
        assert explained.score == pytest.approx(score, abs=1e-9)
        assert explained.score_max == explained.score
        assert explained.level == level_of(score)
        assert set(reasons) <= {c.rule for c in explained.contributions}
        # AND every text rule names words that are in the text
        for c in explained.contributions:
            if c.matched:
                assert c.matched in ticket.text


def test_unknown_negative_probability_gives_a_range() -> None:
    # GIVEN a ticket whose P(NEGATIVE) is only known to be at most 0.4 (it was judged NEUTRAL at 0.6)
    text = "The report page loads slowly."
    # WHEN it is explained with bounds
    explained = explain(text, "bug_report", 0.0, None, negative_probability_max=0.4)
    # THEN the score spans exactly the sentiment nudge's range
    low, _ = urgency_score(text, "bug_report", 0.0, None)
    high, _ = urgency_score(text, "bug_report", 0.4, None)
    assert explained.score == pytest.approx(low) and explained.score_max == pytest.approx(high)


def test_a_lower_stake_is_shown_but_not_added_and_further_high_stakes_stack() -> None:
    # GIVEN a takeover that also moved money, mentioned this week
    text = "Someone hacked my account and I was charged twice, I need this fixed this week"
    # WHEN explained
    parts = {c.rule: c for c in explain(text, "security_concern", 0.0, None).contributions}
    # THEN the highest stake counts in full, another high stake adds 0.2, a medium one nothing
    assert parts["security_breach"].points == 2.6 and parts["security_breach"].matched == "hacked"
    assert parts["money_lost"].points == 0.2 and parts["money_lost"].counted
    assert parts["soon"].counted is False and parts["soon"].matched == "this week"
