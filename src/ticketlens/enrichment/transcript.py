"""The customer's side of a chat or call transcript pasted in as a ticket body.

Tickets raised from a chat or a call often carry the whole conversation ("Customer: ...",
"Agent: ..."). Intent, sentiment, urgency and the summary are about what the customer
wants, and an agent's "Thanks for calling Acme, how can I help?" would otherwise be the
first sentence and the summary. Anything that does not look like a two-sided transcript is
left exactly as it is.
"""

from __future__ import annotations

import re

CUSTOMER_ROLES = frozenset(
    ["customer", "client", "user", "caller", "member", "guest", "buyer", "patient", "policyholder", "visitor", "me"]
)
AGENT_ROLES = frozenset(
    ["agent", "support", "rep", "representative", "advisor", "adviser", "assistant", "bot", "chatbot", "operator",
     "staff", "csr", "associate", "specialist", "helpdesk"]
)
# an optional [12:03] / 12:03:44 stamp, the role (optionally numbered: "Agent 2"), a colon
_LABEL = re.compile(
    r"^\s*(?:\[?\d{1,2}:\d{2}(?::\d{2})?\]?\s*)?([A-Za-z]+)(?:\s*\d+)?\s*:\s*(.*)$"
)


def customer_side(text: str) -> str:
    """The customer's turns, labels stripped, one per line, when ``text`` is a transcript
    with both a customer and an agent speaking; otherwise ``text`` unchanged.

    A transcript here: at least half of the non-empty lines start with a speaker label, and
    both sides appear. Unlabelled lines continue the turn above them."""
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < 2:
        return text
    turns: list[tuple[str | None, str]] = []  # (side, text)
    labelled = 0
    sides: set[str] = set()
    for line in lines:
        match = _LABEL.match(line)
        role = match.group(1).lower() if match else ""
        side = "customer" if role in CUSTOMER_ROLES else "agent" if role in AGENT_ROLES else None
        if side is not None and match is not None:
            labelled += 1
            sides.add(side)
            turns.append((side, match.group(2).strip()))
        elif turns:
            turns[-1] = (turns[-1][0], f"{turns[-1][1]}\n{line.strip()}".strip())
        else:
            turns.append((None, line.strip()))
    if sides != {"customer", "agent"} or labelled * 2 < len(lines):
        return text
    customer = [body for side, body in turns if side == "customer" and body]
    return "\n".join(customer) if customer else text
