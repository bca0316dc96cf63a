"""Urgency rules do what docs/urgency.md says they do, on hand-written tickets."""

from __future__ import annotations

import pytest

from ticketlens.enrichment.urgency import assess, level_probabilities


def _level(text: str, intent: str = "general_inquiry", negative: float = 0.0, priority: str | None = None) -> str:
    return assess([text], [intent], [negative], [priority])[0].level


@pytest.mark.parametrize(
    ("text", "intent", "negative", "expected"),
    [
        ("Our whole site is down, nobody can check out. 503 everywhere.", "bug_report", 0.9, "critical"),
        ("Someone hacked my account and made a transfer I did not authorize.", "security_concern", 0.9, "critical"),
        ("I was charged twice for my subscription this month.", "billing_issue", 0.8, "high"),
        ("I can't log in and I have a client demo today.", "login_issue", 0.7, "high"),
        ("All my calendar events disappeared after the update!!", "bug_report", 0.9, "critical"),
        ("Our whole team of 40 is blocked, we are losing sales every minute.", "bug_report", 0.9, "critical"),
        ("Not urgent, but the invoice PDF has a typo in our company name.", "billing_issue", 0.3, "low"),
        ("The export button sometimes shows an error, refreshing fixes it.", "bug_report", 0.6, "medium"),
        ("How do I add a second user to my plan?", "general_inquiry", 0.05, "low"),
        ("Feature request: it would be nice to have dark mode.", "feature_request", 0.05, "low"),
        ("Small typo on the pricing page, 'recieve' should be 'receive'.", "bug_report", 0.3, "low"),
        # whole-organisation outages, data loss, security incidents, stated deadlines (issue 11)
        ("nobody in our org can log in via sso since 1:45 am!!", "login_issue", 0.6, "critical"),
        ("After the update on Monday 8 of my reports are just gone.", "bug_report", 0.8, "critical"),
        ("We think we were hit by ransomware, files on the shared drive are encrypted.", "security_concern", 0.9,
         "critical"),
        ("Company-wide: the mail server rejects every message.", "bug_report", 0.7, "critical"),
        ("The invoice total is wrong, I need a corrected copy by end of day.", "billing_issue", 0.4, "high"),
        ("Priority: critical. Exports fail for the finance team.", "bug_report", 0.6, "high"),
    ],
)
def test_rules_rank_tickets_as_documented(text: str, intent: str, negative: float, expected: str) -> None:
    # GIVEN a ticket with its predicted intent and sentiment
    # WHEN urgency is assessed
    # THEN the level is the one the rules table promises
    assert _level(text, intent, negative) == expected


def test_customer_priority_is_a_signal_not_the_answer() -> None:
    # GIVEN a cosmetic request the customer marked critical
    text = "Could you change the colour of the header? No rush."
    # THEN it moves the score up but does not make it critical
    assert _level(text, "feature_request", 0.0, "critical") == "low"
    # AND the same priority does lift a borderline ticket
    borderline = "The report page loads slowly."
    without = assess([borderline], ["bug_report"], [0.5], [None])[0]
    with_priority = assess([borderline], ["bug_report"], [0.5], ["critical"])[0]
    assert with_priority.score > without.score


def test_probabilities_are_a_distribution_peaking_at_the_level() -> None:
    for score in (-2.0, 0.5, 1.5, 2.5, 4.0):
        probabilities = level_probabilities(score)
        assert abs(sum(probabilities.values()) - 1.0) < 1e-9
        assert all(p >= 0 for p in probabilities.values())
    assert max(level_probabilities(4.0).items(), key=lambda kv: kv[1])[0] == "critical"
    assert max(level_probabilities(-1.0).items(), key=lambda kv: kv[1])[0] == "low"


def test_a_customer_priority_of_critical_raises_a_medium_ticket() -> None:
    # GIVEN a payment stuck in flight, with and without the customer's own priority
    text = "My transfer has been pending since Monday."
    # WHEN assessed THEN "critical" lifts it a band, "low" keeps it where it is or lower
    assert _level(text, "payment_issue", 0.5) == "medium"
    assert _level(text, "payment_issue", 0.5, "critical") == "high"
    assert _level(text, "payment_issue", 0.5, "low") in ("medium", "low")


def test_the_issue_example_with_a_stated_deadline_and_critical_priority_is_critical() -> None:
    # GIVEN the report from issue 11: lost reports, a deadline today, priority critical
    text = "After the update on Monday 8 of my reports are just gone ... I expect a response TODAY"
    result = assess([text], ["bug_report"], [0.8], ["critical"])[0]
    # THEN it is critical, for the data loss, the deadline and the priority
    assert result.level == "critical"
    assert {"data_loss", "deadline", "priority:critical"} <= set(result.reasons)


def test_a_flagged_ticket_is_low_whatever_its_words_say() -> None:
    # GIVEN a phishing mail that shouts urgency, flagged as needing no action with p=0.9
    text = "URGENT: your account will be suspended today, verify your password immediately"
    flagged = assess([text], ["security_concern"], [0.5], [None], no_action=[0.9])[0]
    unflagged = assess([text], ["security_concern"], [0.5], [None], no_action=[None])[0]
    # THEN the flagged one is low, with at least the flag's probability as confidence
    assert flagged.level == "low" and flagged.confidence >= 0.9 and "no_action" in flagged.reasons
    # AND without the flag the same words are high or critical
    assert unflagged.level in ("high", "critical")
