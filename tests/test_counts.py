"""What the counts table's writes add, and which counters a chart's bars read."""

from __future__ import annotations

import pytest

from ticketlens import counts


def test_a_corrected_ticket_moves_only_the_labels_that_changed() -> None:
    # GIVEN a ticket counted under its first labels, then corrected: new intent, same urgency
    old = counts.labels_of({"intent": "billing_issue", "urgency": "high", "sentiment": "NEGATIVE"})
    new = counts.labels_of({"intent": "feature_request", "urgency": "high", "sentiment": "NEUTRAL"})

    # WHEN the change is worked out
    moved = counts.difference(new, old)

    # THEN the total and the unchanged urgency do not move; each changed label moves by one
    assert moved == {"intent:billing_issue": -1, "intent:feature_request": 1,
                     "sentiment:NEGATIVE": -1, "sentiment:NEUTRAL": 1}
    assert counts.difference(new, new) == {}
    assert counts.negated(old) == {key: -1 for key in old}


def test_updates_add_to_the_tickets_minute_and_hour_and_expire_them() -> None:
    # GIVEN a ticket created at 10:17:42 UTC
    created_at = 1_764_497_862

    # WHEN its counter updates are built
    minute, hour = counts.updates("counts", created_at, {"n": 1, "intent:login_issue": 1})

    # THEN one goes to the start of its minute, one to the start of its hour, each with a TTL
    keys = [u["Update"]["Key"]["bucket_start"]["N"] for u in (minute, hour)]
    assert keys == [str(created_at - created_at % 60), str(created_at - created_at % 3600)]
    for update, period in ((minute, counts.MINUTE), (hour, counts.HOUR)):
        start = int(update["Update"]["Key"]["bucket_start"]["N"])
        assert update["Update"]["Key"]["period"] == {"S": period.name}
        assert update["Update"]["ExpressionAttributeValues"][":expires"] == {"N": str(start + period.keep_s)}
        # label names go through placeholders: any label a taxonomy uses is a valid attribute
        assert set(update["Update"]["ExpressionAttributeNames"].values()) >= {"n", "intent:login_issue"}
    # AND nothing to move writes nothing
    assert counts.updates("counts", created_at, {}) == []


@pytest.mark.parametrize(("bucket_s", "period"), [(120, counts.MINUTE), (900, counts.MINUTE),
                                                   (3600, counts.HOUR), (21600, counts.HOUR)])
def test_each_chart_reads_the_coarsest_counters_that_add_up_to_its_bars(bucket_s: int,
                                                                        period: counts.Period) -> None:
    assert counts.period_for(bucket_s) == period


def test_bars_shorter_than_a_minute_are_refused() -> None:
    with pytest.raises(ValueError, match="whole number of minutes"):
        counts.period_for(90)


def test_a_tickets_disagreement_is_counted_and_moves_with_a_correction() -> None:
    from ticketlens.schemas import traffic_units

    # GIVEN a stored ticket whose intent head's members disagreed by 0.04, and its correction
    old = counts.labels_of({"intent": "billing_issue", "intent_disagreement": 0.04, "sentiment_disagreement": 0.01})
    new = counts.labels_of({"intent": "billing_issue", "intent_disagreement": 0.2, "sentiment_disagreement": 0.01})
    # THEN each head's disagreement is one more ticket of its traffic, in thousandths
    assert old["traffic:intent"] == traffic_units(0.04) and old["traffic_n:intent"] == 1
    # AND a correction moves only the difference; a ticket from before carries none
    assert counts.difference(new, old) == {"traffic:intent": traffic_units(0.2) - traffic_units(0.04)}
    assert "traffic_n:intent" not in counts.labels_of({"intent": "billing_issue"})
