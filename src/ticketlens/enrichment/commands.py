"""`ticketlens enrich` and `ticketlens bench`."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import IO, TextIO

from ticketlens.models import BuildError
from ticketlens.schemas import EnrichedTicket, RawTicket, Rejected, Traffic, parse_ticket

CHUNK_LINES = 256  # enrich and print in chunks: output flows, memory stays flat


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    enrich = subparsers.add_parser(
        "enrich",
        help="enrich JSON-lines tickets from FILE or stdin to stdout",
        description=(
            "Read raw tickets as JSON lines and write enriched tickets as JSON lines to stdout, "
            "in input order. A line needs text only ({\"body\": \"...\"}): a missing ticket_id, "
            "created_at or customer_id is filled in (line-N, now, unknown) unless --strict. Bad "
            "lines are reported on stderr with their line number and reason (and kept in "
            "--rejects); every good line is still enriched. Exit status 1 if any line was rejected."
        ),
    )
    enrich.add_argument("input", nargs="?", default="-", help="JSON-lines file, or - for stdin (default)")
    enrich.add_argument("--rejects", type=Path, help="also write rejected lines with reasons here (JSON lines)")
    enrich.add_argument("--no-embedding", action="store_true", help="leave the 384 floats out of the output")
    enrich.add_argument("--table", action="store_true",
                        help="a table for people instead of JSON lines: id, intent, urgency, sentiment (with their "
                             "confidences), language, flag, summary")
    enrich.add_argument("--strict", action="store_true",
                        help="reject lines without ticket_id, created_at or customer_id, as the pipeline does")
    enrich.add_argument("--progress", choices=("auto", "always", "never"), default="auto",
                        help="progress bar on stderr (auto: when stderr is a terminal)")
    enrich.set_defaults(func=_run_enrich)

    bench = subparsers.add_parser(
        "bench",
        help="benchmark the engine against the sentence-transformers+torch reference",
        description=(
            "Throughput, CPU time, latency, cold start and peak RSS. Each arm loads once in its own "
            "process; the arms then take turns over the same tickets, round after round, and the "
            "figures are medians across rounds (ratios: medians of the per-round ratios)."
        ),
    )
    bench.add_argument("--tickets", type=int, default=500, help="generated tickets per round (default 500)")
    bench.add_argument("--input", type=Path,
                       help="benchmark these JSON-lines tickets instead (what `enrich` takes, bare texts too)")
    bench.add_argument("--rounds", type=int, default=5, help="rounds of every arm in turn (default 5)")
    bench.add_argument("--arms", default=None,
                       help="comma-separated: fp32, int8, reference (default: all three; reference "
                            "only where torch and sentence-transformers are installed)")
    bench.add_argument("--json", action="store_true", help="print the figures as JSON")
    bench.set_defaults(func=_run_bench)


def read_lines(source: str) -> Iterator[tuple[int, str]]:
    """(line number, line) for each non-blank line of the file, or of stdin for "-" (left open)."""
    with nullcontext(sys.stdin) if source == "-" else open(source, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield number, line


def with_identity(line: str, number: int, now: int) -> str | dict[str, object]:
    """The line's ticket with the fields only the pipeline needs filled in, so a file of bare
    texts can be scored: ticket_id ``line-N``, created_at ``now``, customer_id ``unknown``;
    a ``text`` key stands in for a missing body. Anything not a JSON object is left for
    :func:`parse_ticket` to reject with its reason."""
    try:
        data = json.loads(line)
    except ValueError:
        return line
    if not isinstance(data, dict):
        return line
    data.setdefault("ticket_id", f"line-{number}")
    data.setdefault("created_at", now)
    data.setdefault("customer_id", "unknown")
    if "body" not in data and isinstance(data.get("text"), str):
        data["body"] = data.pop("text")
    return data


def _chunks(items: Iterable[tuple[int, str]], size: int) -> Iterator[list[tuple[int, str]]]:
    chunk: list[tuple[int, str]] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _Progress:
    """A one-line progress bar on stderr; silent when not wanted."""

    def __init__(self, stream: TextIO, enabled: bool, total: int | None) -> None:
        self.stream, self.enabled, self.total = stream, enabled, total
        self.started = time.perf_counter()
        self.done = 0

    def advance(self, count: int) -> None:
        if not self.enabled:
            return
        self.done += count
        rate = self.done / max(time.perf_counter() - self.started, 1e-9)
        if self.total:
            filled = int(30 * self.done / self.total)
            bar = f"[{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total}"
        else:
            bar = f"{self.done} lines"
        self.stream.write(f"\r{bar}  {rate:.0f} tickets/s")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")


def _parse(line: str, number: int, strict: bool) -> RawTicket | Rejected:
    where = f"line {number}"
    parsed = parse_ticket(line if strict else with_identity(line, number, int(time.time())), where)
    if isinstance(parsed, Rejected):  # keep the line verbatim for replay: it is the user's own file
        return parsed.model_copy(update={"raw": line, "raw_truncated": False})
    return parsed


def _run_enrich(args: argparse.Namespace) -> int:
    from ticketlens.enrichment import get_enricher
    from ticketlens.enrichment.enricher import with_tickets

    if args.input != "-" and not Path(args.input).is_file():
        print(f"ticketlens enrich: no such file: {args.input}", file=sys.stderr)
        return 2
    try:
        enricher = get_enricher()
    except (BuildError, FileNotFoundError, ValueError) as error:
        print(f"ticketlens enrich: cannot load models: {error}", file=sys.stderr)
        return 2
    show = args.progress == "always" or (args.progress == "auto" and sys.stderr.isatty())
    total = None
    if show and args.input != "-":
        with open(args.input, encoding="utf-8", errors="replace") as handle:
            total = sum(1 for line in handle if line.strip())
    progress = _Progress(sys.stderr, show, total)
    rejects_out = args.rejects.open("w", encoding="utf-8") if args.rejects else None
    rejected = 0
    printed_header = False
    out = sys.stdout
    # this run's tickets are its deployment: the first batch starts from a typical new domain
    traffic: dict[str, Traffic] = {}
    try:
        for chunk in _chunks(read_lines(args.input), CHUNK_LINES):
            parsed = [_parse(line, number, args.strict) for number, line in chunk]
            good = [p for p in parsed if isinstance(p, RawTicket)]
            batch = enricher.enrich(good, traffic)
            traffic = with_tickets(traffic, batch)
            enriched = iter(batch)
            for item in parsed:
                if isinstance(item, Rejected):
                    rejected += 1
                    _report_reject(item, rejects_out)
                    continue
                ticket = next(enriched)
                if args.table:
                    out.write(table_row(ticket, header=not printed_header) + "\n")
                    printed_header = True
                    continue
                exclude = {"enrichment": {"embedding"}} if args.no_embedding else None
                out.write(ticket.model_dump_json(exclude=exclude) + "\n")
            out.flush()
            progress.advance(len(chunk))
    finally:
        progress.close()
        if rejects_out:
            rejects_out.close()
    if rejected:
        print(f"ticketlens enrich: {rejected} line(s) rejected", file=sys.stderr)
        return 1
    return 0


_TABLE = "{:<10} {:<22} {:<13} {:<14} {:<4} {:<8} {}"


def table_row(ticket: EnrichedTicket, header: bool = False, summary_chars: int = 60) -> str:
    """One enriched ticket as a fixed-width row (with the header row first when asked)."""
    e = ticket.enrichment
    summary = e.summary if len(e.summary) <= summary_chars else e.summary[: summary_chars - 1].rsplit(" ", 1)[0] + "…"
    row = _TABLE.format(ticket.ticket_id, f"{e.intent} {e.intent_confidence:.2f}",
                        f"{e.urgency} {e.urgency_confidence:.2f}", f"{e.sentiment} {e.sentiment_confidence:.2f}",
                        e.language, e.flag or "-", summary).rstrip()
    if not header:
        return row
    return _TABLE.format("TICKET", "INTENT", "URGENCY", "SENTIMENT", "LANG", "FLAG", "SUMMARY") + "\n" + row


def _report_reject(item: Rejected, rejects_out: IO[str] | None) -> None:
    # The reason names the field and the problem; the raw line goes only to --rejects.
    print(f"{item.where}: {item.reason}", file=sys.stderr)
    if rejects_out:
        rejects_out.write(item.model_dump_json() + "\n")


def _run_bench(args: argparse.Namespace) -> int:
    from ticketlens.enrichment.bench import BenchError, run_bench

    try:
        arms = args.arms.split(",") if args.arms else None
        report = run_bench(tickets=args.tickets, input_path=args.input, arms=arms, rounds=args.rounds)
    except BenchError as error:
        print(f"ticketlens bench: {error}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2) if args.json else report["table"])
    return 0
