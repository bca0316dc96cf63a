"""What hostile or careless producers upload, and how each must end.

Every entry ends as a stored record or as a reject whose reason names the problem; none may
crash the worker, stall the queue or touch another ticket. The corpus is built from a seed:
the same seed gives the same objects, so a failing run can be replayed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

Outcome = Literal["stored", "rejected", "duplicate"]


@dataclass(frozen=True)
class Hostile:
    """One object to upload: its key and bytes, and how it must end."""

    name: str
    key: str
    body: bytes
    expect: Outcome
    reason: str = ""  # a fragment the reject's reason must contain
    ticket_id: str = ""  # for stored objects: the id its record must have
    after: str = ""  # upload only once this entry (by name) is stored: which of two comes first decides


def _ticket(ticket_id: str, created_at: int, **fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "ticket_id": ticket_id,
        "subject": "Cannot export invoices",
        "body": "Since this morning the export button does nothing. Please help.",
        "created_at": created_at,
        "customer_id": "CUST-HOSTILE",
    }
    base.update(fields)
    return base


def _json(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def hostile_corpus(prefix: str, created_at: int, big: bool = True) -> list[Hostile]:
    """The hostile objects for one run; ``prefix`` keeps ids and keys unique to the run.

    ``big`` adds the 5 MB and 30 MB bodies (slow to upload to an emulator, but the point).
    """
    p, t = prefix, created_at
    key = f"hostile/{p}"
    corpus = [
        Hostile("invalid JSON", f"{key}/invalid.json", b'{"ticket_id": "X", "body": ', "rejected", "not valid JSON"),
        Hostile("empty object", f"{key}/empty-object.json", b"{}", "rejected", "ticket_id"),
        Hostile("JSON array", f"{key}/array.json", b'[{"ticket_id": "A"}]', "rejected", "not a JSON object"),
        Hostile("zero bytes", f"{key}/zero.json", b"", "rejected", "empty"),
        Hostile("binary", f"{key}/binary.bin", bytes(range(256)) * 4, "rejected", "not UTF-8"),
        Hostile("latin-1 text", f"{key}/latin1.json",
                json.dumps(_ticket(f"{p}-latin1", t, body="Caf\u00e9 ordering broken")).encode("utf-8")
                .replace(b"Caf\\u00e9", "Café".encode("latin-1")), "rejected", "not UTF-8"),
        Hostile("created_at as ISO string", f"{key}/iso.json",
                _json(_ticket(f"{p}-iso", "2025-11-23T10:00:00Z")), "rejected", "created_at"),  # type: ignore[arg-type]
        Hostile("created_at negative", f"{key}/negative.json", _json(_ticket(f"{p}-neg", -5)), "rejected",
                "created_at"),
        Hostile("created_at huge", f"{key}/huge.json", _json(_ticket(f"{p}-huge", 99_999_999_999)), "rejected",
                "created_at"),
        Hostile("created_at NaN", f"{key}/nan.json",
                _json(_ticket(f"{p}-nan", 0)).replace(b'"created_at": 0', b'"created_at": NaN'), "rejected",
                "created_at"),
        Hostile("created_at boolean", f"{key}/bool.json", _json(_ticket(f"{p}-bool", True)),  # type: ignore[arg-type]
                "rejected", "created_at"),
        Hostile("ticket_id with /", f"{key}/slash.json", _json(_ticket(f"{p}/x", t)), "rejected", "ticket_id"),
        Hostile("ticket_id with ../", f"{key}/dotdot.json", _json(_ticket(f"../{p}", t)), "rejected", "ticket_id"),
        Hostile("ticket_id of dots", f"{key}/dots.json", _json(_ticket("..", t)), "rejected", "ticket_id"),
        Hostile("ticket_id with a line separator", f"{key}/linesep.json", _json(_ticket(f"{p}\u2028x", t)),
                "rejected", "ticket_id"),
        Hostile("byte-order mark", f"{key}/bom.json", b"\xef\xbb\xbf" + _json(_ticket(f"{p}-bom", t)), "stored",
                ticket_id=f"{p}-bom"),
        Hostile("emoji and right-to-left text", f"{key}/emoji.json",
                _json(_ticket(f"{p}-emoji", t, subject="\U0001F525 app crashed \U0001F62D",
                              body="\u0644\u0627 \u064a\u0639\u0645\u0644 \u0627\u0644\u062a\u0637\u0628\u064a\u0642 "
                                   "\u2014 the app will not open since the update \U0001F64F")),
                "stored", ticket_id=f"{p}-emoji"),
        Hostile("HTML and script in the subject", f"{key}/html.json",
                _json(_ticket(f"{p}-html", t, subject='<script>alert("x")</script><b>refund</b> please')),
                "stored", ticket_id=f"{p}-html"),
        Hostile("key with spaces, + and non-ASCII", f"{key}/inbox from+web/tïcket ü 1.json",
                _json(_ticket(f"{p}-oddkey", t)), "stored", ticket_id=f"{p}-oddkey"),
        Hostile("ticket_id reused with other content", f"{key}/reused.json",
                _json(_ticket(f"{p}-oddkey", t, body="A different ticket that reuses the id.")),
                "rejected", "already used by", after="key with spaces, + and non-ASCII"),
        Hostile("the same ticket under a second key", f"{key}/copy of emoji.json",
                _json(_ticket(f"{p}-emoji", t, subject="\U0001F525 app crashed \U0001F62D",
                              body="\u0644\u0627 \u064a\u0639\u0645\u0644 \u0627\u0644\u062a\u0637\u0628\u064a\u0642 "
                                   "\u2014 the app will not open since the update \U0001F64F")),
                "duplicate", ticket_id=f"{p}-emoji", after="emoji and right-to-left text"),
    ]
    if big:
        corpus += [
            Hostile("5 MB body", f"{key}/5mb.json", _json(_ticket(f"{p}-5mb", t, body="x" * 5_000_000)), "rejected",
                    "too large"),
            Hostile("30 MB body", f"{key}/30mb.json", _json(_ticket(f"{p}-30mb", t, body="y" * 30_000_000)),
                    "rejected", "too large"),
        ]
    return corpus
