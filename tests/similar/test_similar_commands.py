"""The commands a person runs: index build, similar, search, incidents, stats, compact."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ticketlens.cli import main

pytestmark = pytest.mark.slow

LINES = [
    {"body": "I was charged twice for my subscription this month, please refund one charge."},
    {"body": "Double charge on my card for the monthly plan, I need a refund."},
    {"body": "How can I export my projects to a CSV file?"},
    {"ticket_id": "T-4", "subject": "App crash", "body": "The iPhone app crashes when I open settings.",
     "created_at": 1_763_856_000, "customer_id": "CUST-9"},
    {"body": "The iPhone app crashes every time I open the settings screen."},
]


@pytest.fixture
def built(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """GIVEN an index built from a file of bare and full ticket lines (and one bad line)."""
    source = tmp_path / "tickets.jsonl"
    source.write_text("\n".join(json.dumps(line) for line in LINES) + "\n[1, 2]\n", encoding="utf-8")
    status = main(["index", "build", str(source), "--index", str(tmp_path / "idx"),
                   "--out", str(tmp_path / "out.jsonl")])
    err = capsys.readouterr().err
    assert status == 1 and "line 6" in err and "indexed 5" in err  # the bad line is reported, the rest indexed
    return tmp_path


def test_similar_prints_one_line_per_query_best_first_never_itself(built: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    # WHEN two indexed tickets are asked for their 3 most similar tickets
    status = main(["similar", "line-1", "T-4", "--index", str(built / "idx"), "-k", "3", "--json"])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    # THEN one JSON line each, K others, best first, never the query itself
    assert status == 0 and [line["ticket_id"] for line in lines] == ["line-1", "T-4"]
    for line in lines:
        scores = [s["score"] for s in line["similar"]]
        assert len(scores) == 3 and scores == sorted(scores, reverse=True)
        assert line["ticket_id"] not in {s["ticket_id"] for s in line["similar"]}
    assert lines[0]["similar"][0]["ticket_id"] == "line-2"  # the other double charge
    assert lines[1]["similar"][0]["ticket_id"] == "line-5"  # the other crash


def test_similar_reports_an_unknown_ticket(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # WHEN asked about a ticket the index does not hold THEN it says so and exits 1
    status = main(["similar", "nope", "--index", str(built / "idx"), "--json"])
    captured = capsys.readouterr()
    assert status == 1 and json.loads(captured.out)["error"] == "not in the index" and "nope" in captured.err


def test_search_finds_tickets_by_text_and_filters(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # WHEN searching a text, then the same text for one customer only
    main(["search", "refund for a duplicate payment", "--index", str(built / "idx"), "-k", "2", "--json"])
    hits = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    main(["search", "refund for a duplicate payment", "--index", str(built / "idx"), "--customer", "CUST-9", "--json"])
    only = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    # THEN the two charge complaints come first, and the filter keeps only that customer's ticket
    assert {h["ticket_id"] for h in hits} == {"line-1", "line-2"}
    assert [h["ticket_id"] for h in only] == ["T-4"]


def test_the_enriched_output_carries_similar_and_duplicates(built: Path) -> None:
    # GIVEN the --out file of the build WHEN read
    out = [json.loads(line) for line in (built / "out.jsonl").read_text().splitlines()]
    # THEN every ticket has the fields, and later tickets list earlier ones
    assert all({"similar", "duplicate_of", "incident"} <= set(t["enrichment"]) for t in out)
    by_id = {t["ticket_id"]: t["enrichment"] for t in out}
    assert by_id["line-2"]["similar"][0]["ticket_id"] == "line-1"
    assert "embedding" not in by_id["line-2"]


def test_stats_compact_and_incidents(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # WHEN the index is described, compacted, and asked for incidents of the last year
    main(["index", "stats", "--index", str(built / "idx"), "--json"])
    stats = json.loads(capsys.readouterr().out)
    assert main(["index", "compact", "--index", str(built / "idx")]) == 0
    capsys.readouterr()
    main(["incidents", "--since", "520w", "--index", str(built / "idx"), "--json"])
    # THEN it holds the 5 tickets; compaction changes nothing visible; 5 tickets are no burst
    assert stats["rows"] == 5 and stats["generation"] >= 1
    assert capsys.readouterr().out == ""
    main(["index", "stats", "--index", str(built / "idx"), "--json"])
    assert json.loads(capsys.readouterr().out)["rows"] == 5


def test_incidents_lists_clusters_with_size_span_and_a_representative(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    import time

    import numpy as np

    from ticketlens.similar.index import SegmentedIndex
    from ticketlens.similar.segment import IndexRow
    from ticketlens.similar.storage import FolderStorage

    # GIVEN an index where six recent tickets carry one incident, two an old one, the rest none
    now = int(time.time())
    base = np.eye(384, dtype=np.float32)[0]
    rows = [IndexRow(ticket_id=f"I-{n}", created_at=now - 600 + n * 60, embedding=base + 0.01 * n, text="site down",
                     customer_id=f"C{n}", intent="bug_report", incident="INC-I-0", summary=f"site down {n}")
            for n in range(6)]
    rows += [IndexRow(ticket_id=f"O-{n}", created_at=now - 7200, embedding=base, text="old", incident="INC-O-0")
             for n in range(2)]
    rows += [IndexRow(ticket_id="Q-1", created_at=now - 60, embedding=np.eye(384, dtype=np.float32)[1],
                      text="question")]
    SegmentedIndex(FolderStorage(tmp_path / "idx")).append(rows)
    # WHEN incidents of the last hour are listed
    assert main(["incidents", "--since", "1h", "--index", str(tmp_path / "idx"), "--json"]) == 0
    found = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    # THEN only the recent incident, with its size, customers, first/last seen and a member's summary
    assert len(found) == 1
    incident = found[0]
    assert incident["incident"] == "INC-I-0" and incident["size"] == 6 and incident["customers"] == 6
    assert incident["first_seen"] == now - 600 and incident["last_seen"] == now - 300
    assert incident["summary"].startswith("site down") and incident["intents"] == {"bug_report": 6}


def test_already_enriched_lines_are_indexed_without_the_models(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ticketlens.enrichment import get_enricher
    from ticketlens.schemas import RawTicket

    # GIVEN the output of `ticketlens enrich` (records with their embeddings)
    raw = [RawTicket(ticket_id=f"E-{n}", body=text, created_at=1_763_856_000 + n, customer_id="C")
           for n, text in enumerate(["My card was declined at the shop.", "Card declined when paying online."])]
    source = tmp_path / "enriched.jsonl"
    source.write_text("".join(t.model_dump_json() + "\n" for t in get_enricher().enrich(raw)), encoding="utf-8")
    # WHEN indexed
    assert main(["index", "build", str(source), "--index", str(tmp_path / "idx")]) == 0
    # THEN nothing is enriched again, both are indexed, and each finds the other
    err = capsys.readouterr().err
    assert "indexed 2" in err and "enriched here 0" in err
    main(["similar", "E-0", "--index", str(tmp_path / "idx"), "--json"])
    assert [s["ticket_id"] for s in json.loads(capsys.readouterr().out)["similar"]] == ["E-1"]
