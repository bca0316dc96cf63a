"""The board's JSON API and pages, without a browser: the app resolves Function URL events
(as on Lambda) against template.yaml deployed to the emulator, and the local server speaks
HTTP on loopback. Tickets are written with the store as the handler writes them.

Each test writes tickets under an intent of its own (the intent index keeps them apart) or
at a time of its own (the app's clock is set there), so tests stand alone in any order.
"""

from __future__ import annotations

import json
import random
import re
import time
import urllib.error
import urllib.request
from collections import Counter
from importlib import resources

import pytest
from board_helpers import Api, enriched, unique

from ticketlens.board import BoardServer, lambda_handler
from ticketlens.enrichment.urgency import urgency_score
from ticketlens.schemas import Rejected

NOW = int(time.time())


def test_newest_tickets_come_newest_first_without_bodies_or_customers(pipeline) -> None:
    # GIVEN five tickets of one intent, written out of order
    intent = unique("newest")
    times = [NOW - 500, NOW - 100, NOW - 400, NOW - 200, NOW - 300]
    for n, created in enumerate(times):
        pipeline.store.put_enriched(enriched(f"{intent}-{n}", created, intent))
    api = Api(pipeline.store)

    # WHEN the board asks for them, and for everything
    mine = api.json(f"/api/tickets?intent={intent}")
    everything = api.json("/api/tickets?limit=200")

    # THEN they come newest first, as list rows: no body, no customer, no embedding
    assert [t["created_at"] for t in mine["tickets"]] == sorted(times, reverse=True)
    assert mine["complete"] is True and mine["index"] == "intent-index"
    for row in mine["tickets"]:
        assert {"body", "customer_id", "embedding"}.isdisjoint(row)
        assert {"subject", "summary", "intent_confidence", "urgency_confidence", "sentiment_confidence"} <= set(row)
    # AND the unfiltered list is newest first across every partition and holds them too
    stamps = [(t["created_at"], t["ticket_id"]) for t in everything["tickets"]]
    assert stamps == sorted(stamps, reverse=True)
    assert {f"{intent}-{n}" for n in range(5)} <= {t["ticket_id"] for t in everything["tickets"]}


def test_filters_by_urgency_sentiment_and_confidence_combine(pipeline) -> None:
    # GIVEN tickets of one intent across urgencies, sentiments and confidences
    intent = unique("filters")
    rng = random.Random(7)
    written = []
    for n in range(40):
        urgency = rng.choice(["critical", "high", "medium", "low"])
        sentiment = rng.choice(["NEGATIVE", "NEUTRAL", "POSITIVE"])
        confidences = (rng.uniform(0.3, 1.0), rng.uniform(0.3, 1.0), rng.uniform(0.3, 1.0))
        ticket = enriched(f"{intent}-{n}", NOW - 1000 - n, intent, urgency, sentiment, confidences)
        pipeline.store.put_enriched(ticket)
        written.append(ticket)
    api = Api(pipeline.store)

    for query, keep in [
        ("urgency=high", lambda t: t.enrichment.urgency == "high"),
        ("sentiment=negative", lambda t: t.enrichment.sentiment == "NEGATIVE"),
        ("urgency=critical&sentiment=NEUTRAL", lambda t: t.enrichment.urgency == "critical"
         and t.enrichment.sentiment == "NEUTRAL"),
        ("max_confidence=0.5", lambda t: min(t.enrichment.intent_confidence, t.enrichment.urgency_confidence,
                                             t.enrichment.sentiment_confidence) <= 0.5),
    ]:
        # WHEN the list is filtered (with the intent, so only this test's tickets count)
        page = api.json(f"/api/tickets?intent={intent}&{query}&limit=200")
        # THEN exactly the matching tickets come back, newest first
        expected = [t.ticket_id for t in sorted(written, key=lambda t: -t.created_at) if keep(t)]
        assert [t["ticket_id"] for t in page["tickets"]] == expected, query
        assert page["complete"] is True

    # AND without the intent, a filter on urgency reads the urgency index and returns only that level
    page = api.json("/api/tickets?urgency=low&limit=100")
    assert page["index"] == "urgency-index" and {t["urgency"] for t in page["tickets"]} == {"low"}


def test_a_filter_that_matches_little_stops_at_its_read_cap_and_says_so(pipeline) -> None:
    # GIVEN 30 tickets of one intent, none of them critical
    intent = unique("cap")
    for n in range(30):
        pipeline.store.put_enriched(enriched(f"{intent}-{n}", NOW - 2000 - n, intent, "low"))
    api = Api(pipeline.store)

    # WHEN the board looks for critical ones with a read cap below what there is to read
    from ticketlens.board import TicketFilter

    page = api.data.tickets(TicketFilter(intent=intent, urgency="critical"), limit=10, read_cap=20)

    # THEN it stops after reading the cap, and says the search was not exhaustive
    assert page.tickets == [] and page.complete is False and page.items_read == 20


def test_urgent_queue_is_critical_and_high_oldest_first_within_its_window(pipeline) -> None:
    # GIVEN, at a time of this test's own, tickets of every urgency over the last two days
    now = 1_600_000_000 + random.randrange(10_000_000)
    intent = unique("urgent")
    levels = ["critical", "high", "medium", "low"]
    for n in range(24):
        pipeline.store.put_enriched(enriched(f"{intent}-{n}", now - n * 7200, intent, levels[n % 4]))
    api = Api(pipeline.store, clock=lambda: float(now))

    # WHEN the board asks for the urgent queue of the last 24 hours
    queue = api.json("/api/urgent?hours=24&limit=200")["tickets"]

    # THEN it starts with the critical and high tickets of that window, oldest first (tickets
    # other tests wrote are all newer), and holds nothing else
    expected = sorted((now - n * 7200, f"{intent}-{n}") for n in range(24)
                      if levels[n % 4] in ("critical", "high") and now - n * 7200 >= now - 86400)
    stamps = [(t["created_at"], t["ticket_id"]) for t in queue]
    assert stamps[: len(expected)] == expected and stamps == sorted(stamps)
    assert {t["urgency"] for t in queue} == {"critical", "high"}


def test_counts_over_time_add_up_by_intent_urgency_and_sentiment(pipeline) -> None:
    # GIVEN, at a time of this test's own (10 s into a 2-minute bar), 60 tickets over the last hour
    base = 1_400_000_000 + random.randrange(10_000_000)
    now = base - base % 120 + 10
    intent = unique("counts")
    rng = random.Random(3)
    written = []
    for n in range(60):
        ticket = enriched(f"{intent}-{n}", now - rng.randrange(3400), intent, rng.choice(["critical", "low"]),
                          rng.choice(["NEGATIVE", "POSITIVE"]))
        pipeline.store.put_enriched(ticket)
        written.append(ticket)
    clock = [float(now)]
    api = Api(pipeline.store, clock=lambda: clock[0])

    # WHEN the board counts the last hour
    counts = api.json("/api/counts?window=1h")

    # THEN every ticket is in one bar of each chart, and the totals match what was written
    assert counts["bucket_s"] == 120 and len(counts["buckets"]) == 30
    assert counts["total"] == 60
    for dimension, value_of in (("intent", lambda t: t.enrichment.intent),
                                ("urgency", lambda t: t.enrichment.urgency),
                                ("sentiment", lambda t: t.enrichment.sentiment)):
        totals = {value: sum(bars) for value, bars in counts["series"][dimension].items() if sum(bars)}
        assert totals == dict(Counter(value_of(t) for t in written)), dimension
    oldest = min(written, key=lambda t: t.created_at)
    bar = (oldest.created_at - counts["since"]) // 120
    assert counts["series"]["intent"][intent][bar] >= 1

    # AND the chart read the counts table, not the tickets: one item per minute at most
    assert 0 < counts["items_read"] <= 60
    # AND the day's chart adds up to the same from the hourly counts
    day = api.json("/api/counts?window=24h")
    assert day["bucket_s"] == 3600 and day["items_read"] <= 25
    assert day["series"]["intent"][intent] and sum(day["series"]["intent"][intent]) == 60


def test_current_incidents_come_from_the_counts_largest_first_with_the_ticket_that_opened_them(pipeline) -> None:
    # GIVEN, at a time of this test's own, two incidents over the last three hours (five tickets
    # and two) and tickets in no incident; and an incident of two days ago
    now = 1_300_000_000 + random.randrange(10_000_000)
    intent = unique("incident")

    def stored(n: int, at: int, incident: str | None) -> str:
        ticket = enriched(f"{intent}-{n}", at, intent, "high", "NEGATIVE")
        ticket = ticket.model_copy(update={"enrichment": ticket.enrichment.model_copy(update={"incident": incident})})
        pipeline.store.put_enriched(ticket)
        return ticket.ticket_id

    big, small, old = f"INC-{intent}-0", f"INC-{intent}-10", f"INC-{intent}-20"
    for n in range(5):
        stored(n, now - 3 * 3600 + n * 1800, big)
    for n in (10, 11):
        stored(n, now - 600 + n, small)
    for n in (20, 21):
        stored(n, now - 2 * 86400 + n, old)
    for n in range(30, 34):
        stored(n, now - 300 - n, None)
    api = Api(pipeline.store, clock=lambda: float(now))

    # WHEN the board lists the incidents of the last 24 hours
    listed = api.json("/api/incidents?hours=24")["incidents"]

    # THEN both current ones are there, largest first, with their size, their hours and the
    # ticket that opened each; the old one is not
    mine = [i for i in listed if i["incident"].startswith(f"INC-{intent}-")]
    assert [(i["incident"], i["tickets"]) for i in mine] == [(big, 5), (small, 2)]
    assert mine[0]["first_hour"] == (now - 3 * 3600) // 3600 * 3600 and mine[0]["last_hour"] >= mine[0]["first_hour"]
    assert mine[0]["first_ticket"]["ticket_id"] == f"{intent}-0"
    assert mine[0]["first_ticket"]["summary"] == f"summary of {intent}-0" and "body" not in mine[0]["first_ticket"]
    # AND a bad window is refused with a reason
    assert "hours" in api.json("/api/incidents?hours=0", status=400)["error"]


def test_ticket_page_data_has_the_full_record_and_why_it_got_its_urgency(pipeline) -> None:
    # GIVEN a stored ticket whose text fires urgency rules
    intent = "billing_issue"
    ticket = enriched(unique("why"), NOW - 50, intent, "high", "NEGATIVE", (0.8, 0.66, 0.9),
                      subject="Charged twice!!", body="I was charged twice this month, please refund me ASAP.",
                      priority="high")
    pipeline.store.put_enriched(ticket)
    api = Api(pipeline.store)

    # WHEN the ticket's page asks for it
    view = api.json(f"/api/ticket?id={ticket.ticket_id}")

    # THEN it has the whole record, the body included, with the embedding as its size
    record = view["ticket"]
    assert record["body"] == ticket.body and record["customer_id"] == ticket.customer_id
    assert "embedding" not in record["enrichment"] and record["enrichment"]["embedding_dimensions"] == 384
    # AND the urgency explanation replays the same rules to the same score, naming the words that fired
    why = view["urgency"]
    score, reasons = urgency_score(f"{ticket.subject}\n{ticket.body}", intent, 0.9, "high")
    assert why["score"] == pytest.approx(score, abs=1e-3) and why["score_max"] == why["score"]
    fired = {c["rule"]: c for c in why["contributions"]}
    assert set(reasons) <= set(fired)
    assert fired["money_lost"]["matched"].lower() == "charged twice" and fired["deadline"]["matched"] == "ASAP"
    assert why["level"] == "high" and why["confidence"] == 0.66
    assert why["same_rules"] is False  # the test record's model_version names no rules


def test_similar_tickets_and_incidents_show_when_the_item_carries_them(pipeline) -> None:
    # GIVEN a ticket whose item gained the optional fields similar-ticket search will write
    ticket = enriched(unique("similar"), NOW - 60, "bug_report")
    pipeline.store.put_enriched(ticket)
    item = pipeline.store.get_item(ticket.ticket_id)
    pipeline.store.aws.dynamodb.update_item(
        TableName=pipeline.settings.table_name,
        Key={"ticket_id": {"S": ticket.ticket_id}, "created_at": {"N": str(item["created_at"])}},
        UpdateExpression="SET #s = :s, #i = :i, #d = :d",
        ExpressionAttributeNames={"#s": "similar", "#i": "incident", "#d": "duplicate_of"},
        ExpressionAttributeValues={":s": {"L": [{"M": {"ticket_id": {"S": "TKT-1"}, "score": {"N": "0.93"}}}]},
                                   ":i": {"S": "INC-7"}, ":d": {"S": "TKT-1"}},
    )
    api = Api(pipeline.store)

    # WHEN the list and the ticket page read it
    row = api.json("/api/tickets?intent=bug_report&limit=200")["tickets"]
    page = api.json(f"/api/ticket?id={ticket.ticket_id}")["ticket"]

    # THEN both carry them
    mine = next(t for t in row if t["ticket_id"] == ticket.ticket_id)
    assert mine["incident"] == "INC-7" and mine["duplicate_of"] == "TKT-1"
    assert page["similar"] == [{"ticket_id": "TKT-1", "score": 0.93}] and page["incident"] == "INC-7"


def test_rejects_come_with_reasons_but_never_the_raw_input(pipeline) -> None:
    # GIVEN a reject that keeps a prefix of what the producer sent
    key = f"rejects/objects/tickets/{unique('bad')}.json"
    rejected = Rejected.of("s3://raw/tickets/bad.json", "not valid JSON: EOF while parsing",
                           b'{"body": "my card 4111 1111 1111 1111 was')
    pipeline.store.put_rejected(rejected, key)
    api = Api(pipeline.store)

    # WHEN the board lists rejects
    data = api.json("/api/rejects?limit=200")

    # THEN the reject is there with where and why, and without the raw text
    mine = next(r for r in data["rejects"] if r["reject_key"] == key)
    assert mine["reason"] == rejected.reason and mine["where"] == rejected.where
    assert mine["raw_size"] == rejected.raw_size
    assert "4111" not in json.dumps(data) and "raw" not in mine
    assert data["total"] >= 1

    # AND when the same object is rejected again for another reason, the next refresh shows
    # the new reason (a reject is remembered by its key and its ETag, not its key alone)
    again = Rejected.of("s3://raw/tickets/bad.json", "ticket_id: field required",
                        b'{"body": "my card 4111 1111 1111 1111 was"}')
    pipeline.store.put_rejected(again, key)
    mine = next(r for r in api.json("/api/rejects?limit=200")["rejects"] if r["reject_key"] == key)
    assert mine["reason"] == again.reason


def test_dead_letter_peek_shows_the_objects_and_leaves_the_messages_there(pipeline) -> None:
    # GIVEN a message in the dead-letter queue
    sqs = pipeline.store.aws.sqs
    url = pipeline.store.queue_url(pipeline.settings.dlq_name)
    key = f"tickets/2026/01/01/{unique('dead')}.json"
    body = {"Records": [{"eventName": "ObjectCreated:Put",
                         "s3": {"bucket": {"name": pipeline.settings.raw_bucket}, "object": {"key": key}}}]}
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))
    api = Api(pipeline.store)

    try:
        # WHEN the board peeks twice
        first = api.json("/api/dlq?limit=50")
        second = api.json("/api/dlq?limit=50")

        # THEN the object shows, the depth counts it, and the message stays
        assert f"s3://{pipeline.settings.raw_bucket}/{key}" in {m["object"] for m in first["messages"]}
        assert f"s3://{pipeline.settings.raw_bucket}/{key}" in {m["object"] for m in second["messages"]}
        assert second["dlq"]["visible"] >= 1
    finally:
        sqs.purge_queue(QueueUrl=url)


def test_every_table_read_is_a_query_on_an_index_or_a_key(pipeline) -> None:
    # GIVEN a record of every DynamoDB call the board makes
    ticket = enriched(unique("calls"), NOW - 70, "other")
    pipeline.store.put_enriched(ticket)
    calls: list[tuple[str, dict]] = []

    def record(model, params, **_):
        calls.append((model.name, params))

    events = pipeline.store.aws.dynamodb.meta.events
    events.register("provide-client-params.dynamodb.*", record)
    try:
        # WHEN every data view is loaded
        api = Api(pipeline.store)
        for path in ("/api/tickets", "/api/tickets?urgency=high&sentiment=NEGATIVE", "/api/tickets?max_confidence=0.5",
                     "/api/urgent", "/api/counts?window=24h", "/api/incidents", f"/api/ticket?id={ticket.ticket_id}"):
            api.json(path)
    finally:
        events.unregister("provide-client-params.dynamodb.*", record)

    # THEN the tables are only ever queried: the metadata table on a GSI or by its key for one
    # ticket, the counts table by its key for the chart; never scanned
    assert calls and {name for name, _ in calls} == {"Query"}
    tables = pipeline.settings.table_name, pipeline.settings.counts_table
    for _, params in calls:
        assert params["TableName"] in tables
        if params["TableName"] == pipeline.settings.counts_table:
            assert "IndexName" not in params and params["KeyConditionExpression"].startswith("#p = :p")
        else:
            assert params.get("IndexName") in {"urgency-index", "sentiment-index", "intent-index"} \
                or params["KeyConditionExpression"] == "ticket_id = :id"


def test_bad_parameters_are_refused_with_a_reason(pipeline) -> None:
    api = Api(pipeline.store)
    for path, reason in [
        ("/api/tickets?urgency=urgentest", "urgency must be one of"),
        ("/api/tickets?sentiment=angry", "sentiment must be one of"),
        ("/api/tickets?intent=%3Cscript%3E", "intent must be"),
        ("/api/tickets?max_confidence=2", "max_confidence must be between"),
        ("/api/tickets?limit=0", "limit must be between"),
        ("/api/urgent?hours=lots", "hours must be a number"),
        ("/api/counts?window=1y", "window must be one of"),
        ("/api/ticket?id=", "id must be"),
    ]:
        # WHEN a parameter is out of range; THEN 400 with a reason naming it
        assert reason in api.json(path, status=400)["error"], path
    # AND an unknown ticket is a 404, an unknown path too
    assert api.json("/api/ticket?id=no-such-ticket", status=404)["error"] == "no such ticket"
    assert api.json("/api/nothing", status=404)["error"] == "not found"


def test_pages_and_assets_are_served_with_a_strict_policy_and_no_inline_markup(pipeline) -> None:
    api = Api(pipeline.store)
    for path, kind in [("/", "text/html"), ("/ticket?id=x", "text/html"), ("/static/board.js", "text/javascript"),
                       ("/static/board.css", "text/css")]:
        # WHEN a page or asset is fetched
        status, headers, _body = api.call(path)
        # THEN it comes with a CSP that allows only the app's own scripts, and no sniffing
        assert status == 200 and headers["Content-Type"].startswith(kind), path
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert "unsafe-inline" not in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
    # AND nothing outside the static folder is reachable
    for path in ("/static/..%2F_app.py", "/static/_app.py", "/static/.hidden.js", "/static/board.py"):
        assert api.call(path)[0] == 404, path
    # AND the pages carry no inline script, and the script never parses strings as HTML
    static = resources.files("ticketlens.board") / "static"
    for page in ("index.html", "ticket.html"):
        html = (static / page).read_text(encoding="utf-8")
        assert "<script>" not in html and not re.search(r"\son\w+=", html)
    script = (static / "board.js").read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script.split("\n", 2)[2], sink  # the header comment names innerHTML


def test_the_lambda_entry_point_answers_a_function_url_event(pipeline, monkeypatch) -> None:
    # GIVEN the environment the template gives BoardFunction, and a ticket
    ticket = enriched(unique("lambda"), NOW - 80, unique("lambda-intent"))
    pipeline.store.put_enriched(ticket)
    from ticketlens.board import _lambda, function_url_event

    monkeypatch.setattr(_lambda, "app", _lambda.create_app(Api(pipeline.store).data))

    # WHEN Lambda invokes the handler with a Function URL event
    response = lambda_handler(function_url_event("GET", f"/api/tickets?intent={ticket.enrichment.intent}", {}), None)

    # THEN it answers as the local server does
    assert response["statusCode"] == 200
    assert [t["ticket_id"] for t in json.loads(response["body"])["tickets"]] == [ticket.ticket_id]


def test_local_server_is_loopback_only_get_only_and_refuses_other_hosts(pipeline) -> None:
    # GIVEN the local server
    with pytest.raises(ValueError, match="loopback"):
        BoardServer(host="0.0.0.0", port=0)
    api = Api(pipeline.store)
    with BoardServer(data=api.data, port=0) as server:
        # WHEN the page is fetched over HTTP; THEN it is served
        with urllib.request.urlopen(server.url + "/") as response:
            assert response.status == 200 and b"triage board" in response.read()
        # AND a write is refused (no route writes anything)
        for method in ("POST", "PUT", "DELETE"):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(urllib.request.Request(server.url + "/api/tickets", method=method, data=b"{}"))
            assert refused.value.code == 501
        # AND a request naming another host (DNS rebinding) is refused
        with pytest.raises(urllib.error.HTTPError) as other:
            urllib.request.urlopen(urllib.request.Request(server.url + "/api/tickets", headers={"Host": "evil.test"}))
        assert other.value.code == 421
