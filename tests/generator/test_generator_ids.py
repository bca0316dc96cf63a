"""Ticket ids: unique, key-safe, time-ordered."""

from __future__ import annotations

import random

from ticketlens.generator.ids import TicketIds
from ticketlens.generator.sinks import object_key
from ticketlens.schemas import RawTicket

START = 1_763_888_400  # 2025-11-23T09:00:00Z


def test_one_hundred_thousand_ids_in_the_same_second_are_unique_and_ordered() -> None:
    # GIVEN one id source and 100,000 tickets all created in the same second (the worst case)
    ids = TicketIds(random.Random(1))
    # WHEN an id is drawn for each
    drawn = [ids.next(START) for _ in range(100_000)]
    # THEN none collide, and they sort in the order they were made
    assert len(set(drawn)) == len(drawn)
    assert drawn == sorted(drawn)


def test_ids_from_separate_runs_do_not_collide() -> None:
    # GIVEN two runs (differently seeded, as two unseeded processes would be) over the same seconds
    a, b = TicketIds(random.Random("run-a")), TicketIds(random.Random("run-b"))
    # THEN their ids share nothing
    assert not {a.next(START + i // 10) for i in range(20_000)} & {b.next(START + i // 10) for i in range(20_000)}


def test_ids_are_key_safe_and_sort_by_time() -> None:
    ids = TicketIds(random.Random(2))
    early, late = ids.next(START), ids.next(START + 1)
    assert early < late
    for ticket_id in (early, late):
        assert ticket_id.startswith("TKT-") and len(ticket_id) == 30
        assert ticket_id.isascii() and ticket_id.replace("-", "").isalnum()
        RawTicket(ticket_id=ticket_id, body="x", created_at=START, customer_id="c")  # the schema's key-safety check


def test_object_keys_are_partitioned_by_creation_day_in_utc() -> None:
    # GIVEN a ticket created a second before midnight UTC
    ticket = RawTicket(ticket_id="TKT-X", body="x", created_at=START + 15 * 3600 - 1, customer_id="c")
    # THEN its key lands under that day
    assert object_key(ticket) == "tickets/2025/11/23/TKT-X.json"
