"""A deployment's traffic sets the intent head's temperature: the sums a deployment keeps,
the temperature they give, and the enricher that counts what it enriched when nobody tells
it the deployment's traffic."""

from __future__ import annotations

import math

import pytest

from ticketlens.enrichment.heads import TrafficCalibration
from ticketlens.schemas import DISAGREEMENT_FLOOR, RawTicket, TicketMetadata, Traffic, traffic_units


def test_traffic_sums_thousandths_of_the_log_disagreement() -> None:
    # GIVEN tickets whose members disagreed by 0.05 and 0.001
    traffic = Traffic().plus([0.05, 0.001])
    # THEN the sum is kept in integer thousandths (what a DynamoDB ADD can count exactly)
    assert traffic == Traffic(2, round(1000 * math.log(0.05 + DISAGREEMENT_FLOOR)) + round(1000 * math.log(0.002)))
    assert traffic.mean_log_disagreement == pytest.approx(traffic.units / 2000)
    assert Traffic().mean_log_disagreement is None
    assert traffic_units(0.0) == round(1000 * math.log(DISAGREEMENT_FLOOR))


def test_a_new_deployment_starts_at_the_prior_and_moves_to_its_own_level() -> None:
    # GIVEN a calibration whose typical new domain sits at -2.9, weighing 100 tickets
    calibration = TrafficCalibration(a=1.7, b=0.6, prior_mean=-2.9, prior_weight=100)
    # WHEN nothing has been seen, the level is the prior's
    assert calibration.level(Traffic()) == pytest.approx(-2.9)
    # WHEN 900 tickets sit at -4.0 (members agree: home), the level is 90% of the way there
    home = Traffic(900, -4000 * 900)
    assert calibration.level(home) == pytest.approx(0.1 * -2.9 + 0.9 * -4.0)
    # THEN the temperature is exp(a + b * level): sharper at home than on a new domain
    assert calibration.temperature(home) == pytest.approx(math.exp(1.7 + 0.6 * calibration.level(home)))
    assert calibration.temperature(home) < calibration.temperature(Traffic())


def _tickets(n: int) -> list[RawTicket]:
    bodies = ["I was charged twice for my subscription this month, please refund one of them.",
              "The export button does nothing since the last update, on every browser we tried.",
              "How do I add a second admin to our workspace?"]
    return [RawTicket(ticket_id=f"T-{i}", customer_id="C-1", subject="help", body=bodies[i % 3],
                      created_at=1_764_497_862 + i, metadata=TicketMetadata(source="test"))
            for i in range(n)]


@pytest.fixture(scope="module")
def enricher():  # type: ignore[no-untyped-def]
    from ticketlens.enrichment import Enricher

    return Enricher.from_settings()


def test_the_enricher_counts_what_it_enriches_when_not_given_the_traffic(enricher) -> None:  # type: ignore[no-untyped-def]
    # GIVEN an enricher that has seen some tickets
    start = enricher.seen_traffic()
    # WHEN it enriches six more without being told the deployment's traffic
    out = enricher.enrich(_tickets(6))
    # THEN each carries its intent head's disagreement, and the enricher's own traffic grew by them
    seen = enricher.seen_traffic()
    values = [t.enrichment.intent_disagreement for t in out]
    assert all(v is not None and 0 <= v <= 1 for v in values)
    assert seen["intent"] == start["intent"].plus(values)
    # AND the packaged sentiment head, stored as one network, has none to give
    assert {t.enrichment.sentiment_disagreement for t in out} == {None}
    assert seen["sentiment"] == start["sentiment"]


def test_given_traffic_sets_the_confidence_and_is_not_counted_again(enricher) -> None:  # type: ignore[no-untyped-def]
    tickets = _tickets(3)
    seen = enricher.seen_traffic()
    # WHEN the same tickets are enriched for a deployment at home (members agree) and for one
    # whose members disagree on everything
    home = enricher.enrich(tickets, {"intent": Traffic(1000, -4500 * 1000)})
    away = enricher.enrich(tickets, {"intent": Traffic(1000, -1500 * 1000)})
    # THEN the labels are the same and the far deployment's confidences are lower
    assert [t.enrichment.intent for t in home] == [t.enrichment.intent for t in away]
    assert all(h.enrichment.intent_confidence > a.enrichment.intent_confidence for h, a in zip(home, away, strict=True))
    # AND the enricher's own count did not move: the store counts a deployment's tickets
    assert enricher.seen_traffic() == seen
