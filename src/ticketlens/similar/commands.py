"""`ticketlens index build|compact|stats`, `similar`, `search`, `incidents`, `eval-similar`.

Every command reads a local index folder (``--index PATH``) or, without it, the deployed
stack's index (``TICKETLENS_INDEX_URI``, else ``s3://<enriched bucket>/index/`` on
``--endpoint`` / ``AWS_ENDPOINT_URL``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ticketlens.cli import group_help
from ticketlens.emulators.endpoint import ENDPOINT_HELP

if TYPE_CHECKING:  # imported where used: `ticketlens --help` stays fast
    from ticketlens.schemas import EnrichedTicket, RawTicket, Rejected
    from ticketlens.similar.index import SegmentedIndex
    from ticketlens.similar.search import Hit, Snapshot

CHUNK = 256
_DURATION = re.compile(r"^(\d+)\s*([smhdw])$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> int:
    """'90s', '30m', '1h', '7d', '2w' -> seconds."""
    match = _DURATION.match(text.strip().lower())
    if not match:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (use e.g. 30m, 1h, 7d)")
    return int(match.group(1)) * _UNIT[match.group(2)]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--index", metavar="PATH",
                       help="index folder or s3://bucket/prefix/ (default: the deployed stack's index)")
    where.add_argument("--endpoint", metavar="URL", help=ENDPOINT_HELP)
    output = argparse.ArgumentParser(add_help=False)
    output.add_argument("--json", action="store_true", help="one JSON object per line")

    index = subparsers.add_parser("index", help="build, compact or describe a similar-ticket index")
    verbs = index.add_subparsers(dest="verb", metavar="VERB")
    p = verbs.add_parser("build", parents=[where],
                         help="enrich (or read already enriched) JSON-lines tickets and add them to an index",
                         description="Read tickets as `ticketlens enrich` does (bare {\"body\": ...} lines included; "
                                     "lines that already carry an enrichment with an embedding are not enriched "
                                     "again), "
                                     "give each its similar tickets, duplicate and incident from the index so far, and "
                                     "append them in chunks. Prints a summary on stderr.")
    p.add_argument("input", help="JSON-lines file, or - for stdin")
    p.add_argument("--strict", action="store_true", help="reject lines without ticket_id, created_at or customer_id")
    p.add_argument("--out", type=Path, help="also write the enriched tickets (with similar/duplicate_of/incident) here")
    p.set_defaults(func=cmd_build)
    p = verbs.add_parser("compact", parents=[where], help="merge all segments into one and delete unreferenced files")
    p.set_defaults(func=cmd_compact)
    p = verbs.add_parser("stats", parents=[where, output], help="generation, segments, tickets, time span")
    p.set_defaults(func=cmd_stats)
    index.set_defaults(func=group_help(index))

    p = subparsers.add_parser("similar", parents=[where, output],
                              help="the tickets most similar to indexed tickets",
                              description="For each ticket id: the K most similar other tickets in the index, best "
                                          "first, never the ticket itself.")
    p.add_argument("ticket_ids", nargs="+", metavar="ID")
    p.add_argument("-k", type=int, default=5, help="how many (default 5)")
    p.add_argument("--method", choices=("hybrid", "dense", "lexical"), default="hybrid")
    p.set_defaults(func=cmd_similar)

    p = subparsers.add_parser("search", parents=[where, output], help="the tickets most similar to a text")
    p.add_argument("text")
    p.add_argument("-k", type=int, default=10, help="how many (default 10)")
    p.add_argument("--method", choices=("hybrid", "dense", "lexical"), default="hybrid")
    p.add_argument("--intent", help="only tickets with this intent")
    p.add_argument("--urgency", choices=("critical", "high", "medium", "low"), help="only tickets at this urgency")
    p.add_argument("--customer", help="only this customer's tickets")
    p.add_argument("--since", type=parse_duration, metavar="DURATION", help="only tickets created within, e.g. 7d")
    p.set_defaults(func=cmd_search)

    p = subparsers.add_parser("incidents", parents=[where, output],
                              help="current incidents: bursts of tickets about the same problem",
                              description="Incidents whose tickets were created within --since of now: size, first "
                                          "and last seen, a representative summary.")
    p.add_argument("--since", type=parse_duration, default=3600, metavar="DURATION", help="default 1h")
    p.set_defaults(func=cmd_incidents)

    p = subparsers.add_parser("eval-similar", help="dense vs lexical vs hybrid retrieval on public data",
                              description="Recall@1/5/10 of known duplicates (SeaMonkey bug reports) and "
                                          "precision@10 of the same intent (Banking77, CLINC150), the duplicate "
                                          "threshold and the similar floor: docs/similar.md.")
    p.add_argument("--data-dir", help="shared/datasets (default: found from the current directory)")
    p.add_argument("--incidents", action="store_true",
                   help="also run the incident rule on generated days with an outage burst (a few minutes)")
    p.set_defaults(func=cmd_eval)


# ----------------------------------------------------------------------- plumbing --
def _index(args: argparse.Namespace) -> SegmentedIndex:
    from ticketlens.settings import get_settings
    from ticketlens.similar.service import open_index

    if not args.index or args.index.startswith("s3://"):  # the deployed stack's index: find the endpoint
        from ticketlens.emulators.endpoint import choose

        choose(getattr(args, "endpoint", None))
    if args.index and not args.index.startswith("s3://"):
        Path(args.index).mkdir(parents=True, exist_ok=True)
    return open_index(args.index, get_settings())


def _guarded(run: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    from ticketlens.similar.segment import SegmentError

    try:
        return int(run(args) or 0)
    except (BotoCoreError, ClientError, SegmentError, FileNotFoundError) as error:
        print(f"ticketlens {args.command}: {type(error).__name__}: {error}", file=sys.stderr)
        return 1


def _when(ts: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(ts))


def _table(hits: list[Hit]) -> str:
    if not hits:
        return "  (none)"
    lines = [f"  {'TICKET_ID':<32} {'SCORE':>6}  {'CREATED':<16}  {'INTENT':<16} {'URGENCY':<8} SUMMARY"]
    for h in hits:
        lines.append(f"  {h.ticket_id[:32]:<32} {h.score:>6.3f}  {_when(h.created_at):<16}  {h.intent[:16]:<16} "
                     f"{h.urgency:<8} {h.summary[:60]}")
    return "\n".join(lines)


# ------------------------------------------------------------------------- build --
def _tickets(source: str, strict: bool) -> Iterator[tuple[int, EnrichedTicket | RawTicket | Rejected]]:
    """(line number, enriched record, raw ticket or reject) per non-blank line."""
    from ticketlens.enrichment.commands import read_lines, with_identity
    from ticketlens.schemas import EnrichedTicket, parse_ticket

    now = int(time.time())
    for number, line in read_lines(source):
        where = f"line {number}"
        try:
            data = json.loads(line)
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("enrichment"), dict) and data["enrichment"].get("embedding"):
            try:
                yield number, EnrichedTicket.model_validate(data)
                continue
            except ValueError:
                pass  # not a complete enriched record: treat it as a raw ticket
        yield number, parse_ticket(line if strict else with_identity(line, number, now), where)


def cmd_build(args: argparse.Namespace) -> int:
    return _guarded(_build, args)


def _build(args: argparse.Namespace) -> int:
    from ticketlens.schemas import EnrichedTicket, RawTicket, Rejected
    from ticketlens.similar.service import annotate, row_from_enriched

    if args.input != "-" and not Path(args.input).is_file():
        print(f"ticketlens index build: no such file: {args.input}", file=sys.stderr)
        return 2
    index = _index(args)
    out = args.out.open("w", encoding="utf-8") if args.out else None
    enricher = None
    counts: Counter[str] = Counter()
    started = time.perf_counter()
    pending: list[tuple[int, EnrichedTicket | RawTicket | Rejected]] = []

    def flush() -> None:
        nonlocal enricher
        raw = [t for _, t in pending if isinstance(t, RawTicket) and not isinstance(t, EnrichedTicket)]
        ready = {id(t): t for _, t in pending if isinstance(t, EnrichedTicket)}
        if raw:
            if enricher is None:
                from ticketlens.enrichment import get_enricher

                enricher = get_enricher()
            for source, enriched in zip(raw, enricher.enrich(raw), strict=True):
                ready[id(source)] = enriched
        batch = [ready[id(t)] for _, t in pending if id(t) in ready]
        annotated = annotate(batch, index, strict=True)
        index.append([row_from_enriched(t) for t in annotated])
        for ticket in annotated:
            counts["indexed"] += 1
            counts["with a duplicate"] += ticket.enrichment.duplicate_of is not None
            counts["in an incident"] += ticket.enrichment.incident is not None
            if out:
                out.write(ticket.model_dump_json(exclude={"enrichment": {"embedding"}}) + "\n")
        counts["enriched here"] += len(raw)
        pending.clear()

    try:
        for number, ticket in _tickets(args.input, args.strict):
            if isinstance(ticket, Rejected):
                counts["rejected"] += 1
                print(f"{ticket.where}: {ticket.reason}", file=sys.stderr)
                continue
            pending.append((number, ticket))
            if len(pending) >= CHUNK:
                flush()
        if pending:
            flush()
    finally:
        if out:
            out.close()
    seconds = time.perf_counter() - started
    snapshot = index.snapshot()
    print(f"{index.location}: generation {snapshot.generation}, {len(snapshot.segments)} segment(s), "
          f"{len(snapshot)} rows; this run " + ", ".join(f"{k} {v}" for k, v in counts.items())
          + f" in {seconds:.1f} s", file=sys.stderr)
    return 1 if counts["rejected"] else 0


def cmd_compact(args: argparse.Namespace) -> int:
    def run(a: argparse.Namespace) -> int:
        index = _index(a)
        written = index.compact(force=True)
        deleted = index.collect_garbage()
        snapshot = index.snapshot()
        print(f"{index.location}: wrote {len(written)} segment(s), deleted {len(deleted)} old file(s); "
              f"generation {snapshot.generation}, {len(snapshot.segments)} segment(s), {len(snapshot)} rows")
        return 0
    return _guarded(run, args)


def cmd_stats(args: argparse.Namespace) -> int:
    def run(a: argparse.Namespace) -> int:
        index = _index(a)
        snapshot = index.snapshot()
        created = [int(s.created_at.min()) for s in snapshot.segments if len(s)] or [0]
        latest = [int(s.created_at.max()) for s in snapshot.segments if len(s)] or [0]
        stats = {"location": index.location, "generation": snapshot.generation,
                 "segments": [len(s) for s in snapshot.segments], "rows": len(snapshot),
                 "first_created_at": min(created), "last_created_at": max(latest)}
        print(json.dumps(stats) if a.json else "\n".join(f"{k:<18}{v}" for k, v in stats.items()))
        return 0
    return _guarded(run, args)


# ---------------------------------------------------------------------- queries --
def cmd_similar(args: argparse.Namespace) -> int:
    def run(a: argparse.Namespace) -> int:
        from ticketlens.similar.search import Filter

        snapshot = _index(a).snapshot()
        missing = 0
        for ticket_id in a.ticket_ids:
            query = snapshot.query_for(ticket_id)
            if query is None:
                missing += 1
                print(f"ticketlens similar: {ticket_id} is not in {_index(a).location}", file=sys.stderr)
                if a.json:
                    print(json.dumps({"ticket_id": ticket_id, "similar": [], "error": "not in the index"}))
                continue
            hits = snapshot.search([query], a.k, Filter(exclude=frozenset({ticket_id})), a.method)[0]
            if a.json:
                print(json.dumps({"ticket_id": ticket_id, "similar": [h.brief() for h in hits]}))
            else:
                print(f"{ticket_id}\n{_table(hits)}")
        return 1 if missing else 0
    return _guarded(run, args)


def cmd_search(args: argparse.Namespace) -> int:
    def run(a: argparse.Namespace) -> int:
        from ticketlens.models import load_encoder
        from ticketlens.settings import get_settings
        from ticketlens.similar.search import Filter, Query

        snapshot = _index(a).snapshot()
        vector = load_encoder(get_settings()).embed([a.text])[0]
        since = int(time.time()) - a.since if a.since else None
        row_filter = Filter(since=since, intent=a.intent, urgency=a.urgency, customer_id=a.customer)
        hits = snapshot.search([Query(vector, a.text)], a.k, row_filter, a.method)[0]
        if a.json:
            for h in hits:
                print(json.dumps({**h.brief(), "created_at": h.created_at, "intent": h.intent,
                                  "urgency": h.urgency, "summary": h.summary}))
        else:
            print(_table(hits))
        return 0
    return _guarded(run, args)


def incidents(snapshot: Snapshot, since: int) -> list[dict[str, Any]]:
    """Incidents among tickets created at or after ``since``, largest first."""
    import numpy as np

    members: dict[str, list[Hit]] = {}
    for hit in snapshot.rows(since):
        if hit.incident:
            members.setdefault(hit.incident, []).append(hit)
    out = []
    for incident, hits in members.items():
        vectors = []
        for h in hits:
            found = snapshot.locate(h.ticket_id)
            if found is None:  # rows() lists this snapshot's own rows
                raise LookupError(f"{h.ticket_id}: listed by the index snapshot but not found in it")
            segment, row = found
            vectors.append(segment.vectors[row])
        centre = np.mean(vectors, axis=0)
        representative = hits[int(np.argmax(np.asarray(vectors) @ centre))]
        out.append({
            "incident": incident, "size": len(hits),
            "first_seen": min(h.created_at for h in hits), "last_seen": max(h.created_at for h in hits),
            "customers": len({h.customer_id for h in hits}),
            "intents": dict(Counter(h.intent for h in hits).most_common(3)),
            "summary": representative.summary, "representative": representative.ticket_id,
        })
    return sorted(out, key=lambda i: (-i["size"], i["first_seen"]))


def cmd_incidents(args: argparse.Namespace) -> int:
    def run(a: argparse.Namespace) -> int:
        found = incidents(_index(a).snapshot(), int(time.time()) - a.since)
        if a.json:
            for item in found:
                print(json.dumps(item))
            return 0
        if not found:
            print("no incidents")
        for item in found:
            print(f"{item['incident']}  {item['size']} tickets from {item['customers']} customers  "
                  f"{_when(item['first_seen'])} .. {_when(item['last_seen'])}  {item['intents']}\n"
                  f"    {item['summary']}")
        return 0
    return _guarded(run, args)


def cmd_eval(args: argparse.Namespace) -> int:
    from ticketlens.similar.evaluation import evaluate
    from ticketlens.training.data import find_data_dir

    try:
        data_dir = find_data_dir(args.data_dir)
    except FileNotFoundError as error:
        print(f"ticketlens eval-similar: {error}", file=sys.stderr)
        return 2
    print(evaluate(data_dir).table(), flush=True)
    if args.incidents:
        from ticketlens.similar.evaluation import incident_report

        print()
        print(incident_report())
    return 0
