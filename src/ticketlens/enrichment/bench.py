"""`ticketlens bench`: engine speed and memory, the arms interleaved in rounds.

Arms: ``fp32`` and ``int8`` (onnxruntime encoders) and ``reference`` (the same heads,
summary and rules on sentence-transformers + torch). Each arm lives in one worker process
for the whole run, so import and model load are measured once; the arms then take turns
over the same tickets, round after round (fp32, int8, reference, fp32, ...). Other load on
the machine lands on every arm of a round alike, so rates are medians across rounds and
each ratio is the median of the per-round ratios. CPU-seconds per ticket (all threads of
the worker) sit beside the wall-clock rates: they move far less with other load.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:  # the worker imports these itself: its load time is part of the figures
    from ticketlens.enrichment import Enricher
    from ticketlens.models import TextEncoder
    from ticketlens.schemas import RawTicket

ARMS = ("fp32", "int8", "reference")
SINGLE_TICKET_SAMPLES = 100  # spread over the rounds
BATCH = 32


class BenchError(RuntimeError):
    pass


def reference_available() -> bool:
    """Whether the reference arm can run here (the `reference` extra is installed)."""
    return all(importlib.util.find_spec(name) is not None for name in ("torch", "sentence_transformers"))


def choose_arms(requested: list[str] | None, has_reference: bool) -> tuple[list[str], str | None]:
    """The arms to run, and a note when the reference arm was left out for want of torch."""
    if requested is None:
        if has_reference:
            return list(ARMS), None
        note = "reference arm skipped: torch / sentence-transformers not installed (`make reference` adds them)"
        return [arm for arm in ARMS if arm != "reference"], note
    unknown = [arm for arm in requested if arm not in ARMS]
    if unknown:
        raise BenchError(f"unknown arm(s) {unknown}; choose from {list(ARMS)}")
    if "reference" in requested and not has_reference:
        raise BenchError("the reference arm needs torch and sentence-transformers: `make reference`")
    return list(dict.fromkeys(requested)), None


def _write_tickets(count: int, path: Path) -> None:
    from ticketlens.generator import TicketFactory

    factory = TicketFactory(seed=7)
    start = int(time.time())
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            out.write(factory.make(created_at=start + i).model_dump_json() + "\n")


def run_bench(tickets: int, input_path: Path | None, arms: list[str] | None, rounds: int = 5) -> dict[str, Any]:
    """Start one worker per arm, run `rounds` interleaved rounds, and summarise them."""
    chosen, note = choose_arms(arms, reference_available())
    if tickets < 1:
        raise BenchError("--tickets must be at least 1")
    if rounds < 1:
        raise BenchError("--rounds must be at least 1")
    with tempfile.TemporaryDirectory() as scratch:
        path = input_path or Path(scratch) / "tickets.jsonl"
        if input_path is None:
            _write_tickets(tickets, path)
        elif not path.is_file():
            raise BenchError(f"no such file: {path}")
        workers: dict[str, _Worker] = {}
        try:
            for arm in chosen:  # one at a time, so cold starts do not compete
                workers[arm] = _Worker.start(arm, path, Path(scratch))
            singles = math.ceil(SINGLE_TICKET_SAMPLES / rounds)
            for index in range(rounds):
                for arm in chosen:
                    workers[arm].rounds.append(workers[arm].ask({"op": "round", "single_from": index * singles,
                                                                 "singles": singles}))
            for worker in workers.values():
                worker.final = worker.ask({"op": "finish"})
        finally:
            for worker in workers.values():
                worker.close()
        results = {arm: _summarise(workers[arm]) for arm in chosen}
    ratios = _ratios({arm: workers[arm].rounds for arm in chosen})
    return {
        "results": results,
        "ratios": {arm: asdict(ratio) for arm, ratio in ratios.items()},
        "rounds": rounds,
        "note": note,
        "table": _table(results, ratios, note),
        "cpus": len(os.sched_getaffinity(0)),
    }


@dataclass
class _Worker:
    """One arm's long-lived process: JSON commands on stdin, one JSON line back per command."""

    arm: str
    process: subprocess.Popen[str]
    stderr: IO[str]
    ready: dict[str, Any]
    rounds: list[dict[str, Any]] = field(default_factory=list)
    final: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def start(cls, arm: str, tickets: Path, scratch: Path) -> _Worker:
        started = time.time()
        stderr = (scratch / f"{arm}.stderr").open("w+", encoding="utf-8")
        process = subprocess.Popen(
            [sys.executable, "-m", "ticketlens.enrichment.bench", arm, str(tickets)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        worker = cls(arm, process, stderr, ready={})
        worker.ready = worker._read()
        worker.ready["process_to_ready_s"] = worker.ready.pop("ready_at") - started
        return worker

    def ask(self, command: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return self._read()

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            self.process.wait(timeout=30)
            self.stderr.seek(0)
            raise BenchError(f"arm {self.arm} failed (exit {self.process.returncode}):\n{self.stderr.read()[-2000:]}")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.stderr.close()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def _rate(round_: dict[str, Any]) -> float:
    return float(round_["tickets"] / round_["wall_s"])


def _cpu_ms(round_: dict[str, Any]) -> float:
    return float(1000 * round_["cpu_s"] / round_["tickets"])


def _summarise(worker: _Worker) -> dict[str, Any]:
    rounds, final = worker.rounds, worker.final
    rates = [_rate(r) for r in rounds]
    batch = [ms for r in rounds for ms, n in r["batch_ms_per_ticket"] for _ in range(n)]
    single = [ms for r in rounds for ms in r["single_ms"]]
    return {
        "arm": worker.arm,
        "model_version": worker.ready["model_version"],
        "tickets": rounds[0]["tickets"],
        "mean_words": worker.ready["mean_words"],
        "rounds": len(rounds),
        "tickets_per_s": statistics.median(rates),
        "tickets_per_s_min": min(rates),
        "tickets_per_s_max": max(rates),
        "cpu_ms_per_ticket": statistics.median(_cpu_ms(r) for r in rounds),
        "batch_ms_per_ticket_p50": _percentile(batch, 50),
        "batch_ms_per_ticket_p95": _percentile(batch, 95),
        "single_ms_p50": _percentile(single, 50),
        "single_ms_p95": _percentile(single, 95),
        "cold_start_s": worker.ready["cold_start_s"],
        "process_to_ready_s": worker.ready["process_to_ready_s"],
        "peak_rss_mb": final["peak_rss_mb"],
        "encode_share_pct": final["encode_share_pct"],
        "overhead_pct": final["overhead_pct"],
        "stage_seconds": final["stage_seconds"],
        "intent_agreement_pct": rounds[0]["intent_agreement_pct"],
        "per_round": [{"tickets_per_s": _rate(r), "cpu_ms_per_ticket": _cpu_ms(r)} for r in rounds],
    }


@dataclass(frozen=True)
class Ratio:
    """An arm against the baseline: medians of the per-round ratios (same round, same load)."""

    baseline: str
    speed: float  # tickets/s over the baseline's
    cpu: float  # the baseline's CPU per ticket over this arm's


def _ratios(rounds: dict[str, list[dict[str, Any]]]) -> dict[str, Ratio]:
    """Each arm against the baseline (reference if it ran, else fp32), round by round."""
    baseline = "reference" if "reference" in rounds else "fp32"
    if baseline not in rounds:
        return {}
    out: dict[str, Ratio] = {}
    for arm, mine in rounds.items():
        if arm == baseline:
            continue
        pairs = list(zip(mine, rounds[baseline], strict=True))
        out[arm] = Ratio(
            baseline,
            speed=statistics.median(_rate(a) / _rate(b) for a, b in pairs),
            cpu=statistics.median(_cpu_ms(b) / _cpu_ms(a) for a, b in pairs),
        )
    return out


def _table(results: dict[str, Any], ratios: dict[str, Ratio], note: str | None) -> str:
    rows: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("tickets per round", lambda r: f"{r['tickets']:.0f}"),
        ("mean words per ticket", lambda r: f"{r['mean_words']:.0f}"),
        ("rounds", lambda r: f"{r['rounds']}"),
        ("tickets/s (batches of 32), median", lambda r: f"{r['tickets_per_s']:.1f}"),
        ("tickets/s, slowest-fastest round", lambda r: f"{r['tickets_per_s_min']:.0f}-{r['tickets_per_s_max']:.0f}"),
        ("CPU ms/ticket (all threads), median", lambda r: f"{r['cpu_ms_per_ticket']:.1f}"),
        ("ms/ticket in batch p50", lambda r: f"{r['batch_ms_per_ticket_p50']:.1f}"),
        ("ms/ticket in batch p95", lambda r: f"{r['batch_ms_per_ticket_p95']:.1f}"),
        ("single-ticket latency p50 ms", lambda r: f"{r['single_ms_p50']:.1f}"),
        ("single-ticket latency p95 ms", lambda r: f"{r['single_ms_p95']:.1f}"),
        ("cold start: import+load s", lambda r: f"{r['cold_start_s']:.2f}"),
        ("cold start: process to ready s", lambda r: f"{r['process_to_ready_s']:.2f}"),
        ("peak RSS MB", lambda r: f"{r['peak_rss_mb']:.0f}"),
        ("encoder share of time %", lambda r: f"{r['encode_share_pct']:.0f}"),
        ("language+heads+summary+urgency on top %", lambda r: f"{r['overhead_pct']:.0f}"),
        ("intent agrees with generator %",
         lambda r: "-" if r["intent_agreement_pct"] is None else f"{r['intent_agreement_pct']:.1f}"),
    ]
    arms = list(results)
    width = max(len(label) for label, _ in rows)
    cell = max(10, *(len(fmt(results[arm])) for _, fmt in rows for arm in arms))
    lines = [f"{'':<{width}}  " + "  ".join(f"{arm:>{cell}}" for arm in arms)]
    for label, fmt in rows:
        lines.append(f"{label:<{width}}  " + "  ".join(f"{fmt(results[arm]):>{cell}}" for arm in arms))
    for arm, ratio in ratios.items():
        lines.append(
            f"{arm} vs {ratio.baseline}: {ratio.speed:.2f}x tickets/s, {ratio.cpu:.2f}x less CPU per ticket"
            " (medians of per-round ratios)"
        )
    if note:
        lines.append(note)
    return "\n".join(lines)


# --- worker process ---------------------------------------------------------------------------------


def _load(arm: str) -> tuple[Enricher, float]:
    """The arm's enricher and its import+load time, from the first ticketlens import."""
    t0 = time.perf_counter()
    from ticketlens.enrichment import Enricher
    from ticketlens.enrichment.heads import load_head
    from ticketlens.enrichment.summary import ExtractiveSummarizer
    from ticketlens.models import load_encoder
    from ticketlens.settings import Settings

    settings = Settings(encoder_variant="int8" if arm == "int8" else "fp32")
    if arm == "reference":
        from ticketlens.models.reference import ReferenceEncoder

        encoder: TextEncoder = ReferenceEncoder(max_tokens=settings.max_tokens, threads=settings.threads)
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
    return enricher, time.perf_counter() - t0


def _round(enricher: Enricher, tickets: list[RawTicket], single_from: int, singles: int) -> dict[str, Any]:
    batch_ms: list[tuple[float, int]] = []
    out: list[Any] = []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for i in range(0, len(tickets), BATCH):
        chunk = tickets[i : i + BATCH]
        t = time.perf_counter()
        out.extend(enricher.enrich(chunk))
        batch_ms.append(((time.perf_counter() - t) * 1000 / len(chunk), len(chunk)))
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0

    single: list[float] = []
    for k in range(singles):
        ticket = tickets[(single_from + k) % len(tickets)]
        t = time.perf_counter()
        enricher.enrich([ticket])
        single.append((time.perf_counter() - t) * 1000)

    truth = [t.metadata.labels.get("intent") if t.metadata.labels else None for t in tickets]
    scored = [(e.enrichment.intent, y) for e, y in zip(out, truth, strict=True) if y]
    return {
        "tickets": len(tickets),
        "wall_s": wall,
        "cpu_s": cpu,
        "batch_ms_per_ticket": batch_ms,
        "single_ms": single,
        "intent_agreement_pct": 100 * sum(p == y for p, y in scored) / len(scored) if scored else None,
    }


def _worker(arm: str, path: str) -> None:
    """Load once, then answer round/finish commands until told to finish."""
    import resource

    # Protocol lines go to the real stdout; anything a library prints goes to stderr.
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    enricher, cold_start = _load(arm)
    ready_at = time.time()
    from ticketlens.enrichment import StageTimes
    from ticketlens.enrichment.commands import with_identity
    from ticketlens.schemas import RawTicket

    # The same lines `ticketlens enrich` takes: bare {"body": ...} texts get an id and a time.
    now = int(time.time())
    with open(path, encoding="utf-8") as handle:
        tickets = [RawTicket.model_validate(with_identity(line, number, now))
                   for number, line in enumerate(handle, start=1) if line.strip()]
    enricher.enrich(tickets[:8])  # first-call allocations are not throughput
    enricher.times = StageTimes()

    def reply(payload: dict[str, Any]) -> None:
        protocol.write(json.dumps(payload) + "\n")
        protocol.flush()

    reply({
        "cold_start_s": cold_start,
        "ready_at": ready_at,
        "model_version": enricher.model_version,
        "mean_words": sum(len(t.text.split()) for t in tickets) / len(tickets),
    })
    for line in sys.stdin:
        command = json.loads(line)
        if command["op"] == "round":
            reply(_round(enricher, tickets, command["single_from"], command["singles"]))
            continue
        times = enricher.times
        rest = times.language + times.heads + times.summary + times.urgency
        reply({
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "encode_share_pct": 100 * times.encode / max(times.encode + rest, 1e-9),
            "overhead_pct": 100 * rest / max(times.encode, 1e-9),
            "stage_seconds": {"encode": times.encode, "language": times.language, "heads": times.heads,
                              "summary": times.summary, "urgency": times.urgency},
        })
        return


if __name__ == "__main__":
    _worker(sys.argv[1], sys.argv[2])
