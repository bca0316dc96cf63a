"""A pasted chat or call transcript is read from the customer's side; nothing else changes."""

from __future__ import annotations

import pytest

from ticketlens.enrichment.transcript import customer_side


def test_two_sided_transcript_keeps_the_customer_turns_without_labels() -> None:
    # GIVEN a call transcript opened by the agent, with a continuation line and a timestamp
    text = (
        "Agent: Hi, thanks for calling Acme Insurance, how can I help?\n"
        "Customer: Hi yeah, I moved house last month\n"
        "and I need to update the address on my car insurance.\n"
        "[12:04] Agent 2: Sure, can I have your policy number?\n"
        "[12:05] customer: it's 48213"
    )
    # WHEN the customer's side is taken
    # THEN only the customer speaks, continuation kept, labels and stamps gone
    assert customer_side(text) == (
        "Hi yeah, I moved house last month\nand I need to update the address on my car insurance.\nit's 48213"
    )


@pytest.mark.parametrize(
    "text",
    [
        "My card was declined twice today.\nPlease help.",  # plain ticket
        "Customer: my card was declined",  # one labelled line
        "User: jdoe\nBrowser: Chrome 120\nSteps: open settings\nResult: crash",  # a form, one side only
        # mostly not turns
        "Note: agent said it was fixed\nError: still failing\nAgent: we'll call back\nTime: 3pm\nCode: 500",
    ],
)
def test_anything_but_a_two_sided_transcript_is_left_unchanged(text: str) -> None:
    # GIVEN text that is not a conversation between a customer and an agent
    # THEN it comes back exactly as it was
    assert customer_side(text) == text


def test_a_transcript_where_only_the_agent_speaks_falls_back_to_the_whole_text() -> None:
    text = "Agent: hello?\nSupport: are you there?\nCustomer:"
    assert customer_side(text) == text
