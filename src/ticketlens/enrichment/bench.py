"""`ticketlens bench`: engine speed and memory, each arm in a fresh process.

Arms: ``fp32`` and ``int8`` (onnxruntime encoders) and ``reference`` (the same heads,
summary and rules on sentence-transformers + torch), run one after another on the same
tickets so the ratio is taken in one run on one machine state.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ARMS = ("fp32", "int8", "reference")
SINGLE_TICKET_SAMPLES = 100


class BenchError(RuntimeError):
    pass


def _write_tickets(count: int, path: Path) -> None:
    from ticketlens.generator import TicketFactory

    factory = TicketFactory(seed=7)
    start = int(time.time())
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            out.write(factory.make(created_at=start + i).model_dump_json() + "\n")


def run_bench(tickets: int, input_path: Path | None, arms: list[str]) -> dict[str, Any]:
    unknown = [arm for arm in arms if arm not in ARMS]
    if unknown:
        raise BenchError(f"unknown arm(s) {unknown}; choose from {list(ARMS)}")
    if tickets < 1:
        raise BenchError("--tickets must be at least 1")
    with tempfile.TemporaryDirectory() as scratch:
        path = input_path or Path(scratch) / "tickets.jsonl"
        if input_path is None:
            _write_tickets(tickets, path)
        elif not path.is_file():
            raise BenchError(f"no such file: {path}")
        results = {arm: _run_arm(arm, path) for arm in arms}
    return {"results": results, "table": _table(results), "cpus": len(os.sched_getaffinity(0))}


def _run_arm(arm: str, path: Path) -> dict[str, Any]:
    started = time.time()
    proc = subprocess.run(
        [sys.executable, "-m", "ticketlens.enrichment.bench", arm, str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    if proc.returncode != 0:
        raise BenchError(f"arm {arm} failed:\n{proc.stderr[-2000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_to_ready_s"] = result.pop("ready_at") - started
    return result


def _table(results: dict[str, Any]) -> str:
    rows = [
        ("tickets", "tickets", "{:.0f}"),
        ("mean words per ticket", "mean_words", "{:.0f}"),
        ("tickets/s (batches of 32)", "tickets_per_s", "{:.1f}"),
        ("ms/ticket in batch p50", "batch_ms_per_ticket_p50", "{:.1f}"),
        ("ms/ticket in batch p95", "batch_ms_per_ticket_p95", "{:.1f}"),
        ("single-ticket latency p50 ms", "single_ms_p50", "{:.1f}"),
        ("single-ticket latency p95 ms", "single_ms_p95", "{:.1f}"),
        ("cold start: import+load s", "cold_start_s", "{:.2f}"),
        ("cold start: process to ready s", "process_to_ready_s", "{:.2f}"),
        ("peak RSS MB", "peak_rss_mb", "{:.0f}"),
        ("encoder share of time %", "encode_share_pct", "{:.0f}"),
        ("heads+summary+urgency on top %", "overhead_pct", "{:.0f}"),
        ("intent agrees with generator %", "intent_agreement_pct", "{:.1f}"),
    ]
    arms = list(results)
    width = max(len(r[0]) for r in rows)
    lines = [f"{'':<{width}}  " + "  ".join(f"{arm:>10}" for arm in arms)]
    for label, key, fmt in rows:
        cells = []
        for arm in arms:
            value = results[arm].get(key)
            cells.append(f"{fmt.format(value):>10}" if value is not None else f"{'-':>10}")
        lines.append(f"{label:<{width}}  " + "  ".join(cells))
    if "reference" in results:
        ref = results["reference"]["tickets_per_s"]
        for arm in arms:
            if arm != "reference":
                lines.append(f"{arm} speed-up vs reference: {results[arm]['tickets_per_s'] / ref:.2f}x")
    return "\n".join(lines)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def _worker(arm: str, path: str) -> dict[str, Any]:
    """One arm, timed from the first ticketlens import to the last ticket."""
    t0 = time.perf_counter()
    from ticketlens.enrichment import Enricher, StageTimes
    from ticketlens.enrichment.heads import load_head
    from ticketlens.enrichment.summary import ExtractiveSummarizer
    from ticketlens.models import load_encoder
    from ticketlens.schemas import RawTicket
    from ticketlens.settings import Settings

    settings = Settings(encoder_variant="int8" if arm == "int8" else "fp32")
    if arm == "reference":
        from ticketlens.models.reference import ReferenceEncoder

        encoder: Any = ReferenceEncoder(max_tokens=settings.max_tokens, threads=settings.threads)
    else:
        encoder = load_encoder(settings)
    enricher = Enricher(
        encoder,
        load_head(settings.intent_head, "intent"),
        load_head(settings.sentiment_head, "sentiment"),
        ExtractiveSummarizer(),
        flag_head=load_head(settings.flag_head, "flag"),
        batch_size=settings.batch_size,
    )
    cold_start = time.perf_counter() - t0
    ready_at = time.time()

    with open(path, encoding="utf-8") as handle:
        tickets = [RawTicket.model_validate_json(line) for line in handle if line.strip()]
    enricher.enrich(tickets[:8])  # first-call allocations are not throughput
    enricher.times = StageTimes()

    batch = 32
    per_ticket: list[float] = []
    out: list[Any] = []
    started = time.perf_counter()
    for i in range(0, len(tickets), batch):
        chunk = tickets[i : i + batch]
        t = time.perf_counter()
        out.extend(enricher.enrich(chunk))
        per_ticket.extend([(time.perf_counter() - t) * 1000 / len(chunk)] * len(chunk))
    elapsed = time.perf_counter() - started
    times = enricher.times
    rest = times.language + times.heads + times.summary + times.urgency

    single: list[float] = []
    for ticket in tickets[:SINGLE_TICKET_SAMPLES]:
        t = time.perf_counter()
        enricher.enrich([ticket])
        single.append((time.perf_counter() - t) * 1000)

    truth = [t.metadata.labels.get("intent") if t.metadata.labels else None for t in tickets]
    scored = [(e.enrichment.intent, y) for e, y in zip(out, truth, strict=True) if y]

    import resource

    return {
        "arm": arm,
        "model_version": enricher.model_version,
        "tickets": len(tickets),
        "mean_words": sum(len(t.text.split()) for t in tickets) / len(tickets),
        "tickets_per_s": len(tickets) / elapsed,
        "batch_ms_per_ticket_p50": _percentile(per_ticket, 50),
        "batch_ms_per_ticket_p95": _percentile(per_ticket, 95),
        "single_ms_p50": _percentile(single, 50),
        "single_ms_p95": _percentile(single, 95),
        "cold_start_s": cold_start,
        "ready_at": ready_at,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "encode_share_pct": 100 * times.encode / max(times.encode + rest, 1e-9),
        "overhead_pct": 100 * rest / max(times.encode, 1e-9),
        "stage_seconds": {"encode": times.encode, "language": times.language, "heads": times.heads,
                          "summary": times.summary, "urgency": times.urgency},
        "intent_agreement_pct": 100 * sum(p == y for p, y in scored) / len(scored) if scored else None,
    }


if __name__ == "__main__":
    print(json.dumps(_worker(sys.argv[1], sys.argv[2])))
