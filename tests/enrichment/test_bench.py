"""`ticketlens bench`: arms interleaved in rounds, medians, per-round ratios, optional reference."""

from __future__ import annotations

import pytest

from ticketlens.enrichment import bench
from ticketlens.enrichment.bench import BenchError, _ratios, choose_arms


def _round(rate: float, cpu_ms: float, tickets: int = 100) -> dict[str, float]:
    return {"tickets": tickets, "wall_s": tickets / rate, "cpu_s": cpu_ms * tickets / 1000}


def test_ratios_pair_the_arms_round_by_round() -> None:
    # GIVEN three rounds where other load slowed fp32 in round 2 and the reference in round 3
    rounds = {
        "fp32": [_round(100, 20), _round(30, 20), _round(100, 20)],
        "reference": [_round(50, 60), _round(15, 60), _round(10, 60)],
    }
    # WHEN the ratios are taken
    ratios = _ratios(rounds)
    # THEN each is the median of same-round ratios (2, 2, 10 -> 2), not a ratio of medians
    # (100 / 15 = 6.7), and the CPU ratio is the reference's CPU per ticket over fp32's
    assert ratios["fp32"].baseline == "reference"
    assert ratios["fp32"].speed == pytest.approx(2.0)
    assert ratios["fp32"].cpu == pytest.approx(3.0)
    assert "reference" not in ratios


def test_without_the_reference_the_ratio_is_against_fp32() -> None:
    # GIVEN rounds of fp32 and int8 only
    ratios = _ratios({"fp32": [_round(60, 30)], "int8": [_round(90, 15)]})
    # THEN int8 is compared with fp32
    assert (ratios["int8"].baseline, ratios["int8"].speed, ratios["int8"].cpu) == ("fp32", pytest.approx(1.5), 2.0)


def test_default_arms_leave_out_the_reference_without_torch_and_say_so() -> None:
    # GIVEN no arms asked for, on machines with and without the reference extra
    with_torch = choose_arms(None, has_reference=True)
    without = choose_arms(None, has_reference=False)
    # THEN all three run where torch is; elsewhere fp32 and int8, with a note naming the fix
    assert with_torch == (["fp32", "int8", "reference"], None)
    assert without[0] == ["fp32", "int8"]
    assert without[1] is not None and "make reference" in without[1]


def test_asking_for_what_cannot_run_is_an_error() -> None:
    # GIVEN an explicit reference arm without torch, and an arm that does not exist
    # THEN each is refused with its reason
    with pytest.raises(BenchError, match="torch"):
        choose_arms(["fp32", "reference"], has_reference=False)
    with pytest.raises(BenchError, match="unknown"):
        choose_arms(["fp16"], has_reference=True)


@pytest.mark.slow
def test_bench_runs_the_arms_in_rounds(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a machine without the reference extra (as the demo venv is)
    monkeypatch.setattr(bench, "reference_available", lambda: False)
    # WHEN the default arms run two rounds over 8 generated tickets, each arm in its own worker
    report = bench.run_bench(tickets=8, input_path=None, arms=None, rounds=2)
    # THEN fp32 and int8 each report two rounds, with medians, CPU time and a per-round ratio
    results = report["results"]
    assert list(results) == ["fp32", "int8"] and report["rounds"] == 2
    for arm, result in results.items():
        assert result["rounds"] == 2 and len(result["per_round"]) == 2
        assert result["tickets"] == 8 and arm in result["model_version"]
        assert result["tickets_per_s_min"] <= result["tickets_per_s"] <= result["tickets_per_s_max"]
        assert result["cpu_ms_per_ticket"] > 0 and result["peak_rss_mb"] > 0
    assert report["ratios"]["int8"]["baseline"] == "fp32" and report["ratios"]["int8"]["speed"] > 0
    # AND the table says the reference was skipped and why
    assert "int8 vs fp32:" in report["table"]
    assert "reference arm skipped" in report["table"]


@pytest.mark.slow
def test_bench_takes_the_lines_enrich_takes(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a file of bare texts, as `ticketlens enrich` accepts them (no id, time or customer)
    monkeypatch.setattr(bench, "reference_available", lambda: False)
    path = tmp_path / "texts.jsonl"
    path.write_text('{"body": "I was charged twice for my subscription this month."}\n\n'
                    '{"text": "The app crashes whenever I open settings on Android."}\n', encoding="utf-8")
    # WHEN one fp32 round benchmarks them
    report = bench.run_bench(tickets=500, input_path=path, arms=["fp32"], rounds=1)
    # THEN both lines are enriched as tickets
    assert report["results"]["fp32"]["tickets"] == 2
