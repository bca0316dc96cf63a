"""Speed and size of the embedded index: build rate, query latency, memory, bytes at rest.

Tickets are synthetic but shaped like real ones: ``base`` generated tickets (the project's
generator, seed 1) are embedded with the project's encoder once; each benchmark ticket takes
the text of a random base ticket and that ticket's vector plus Gaussian noise (cosine ~0.9
to it), renormalised, so vectors cluster the way tickets do without 100,000 encoder passes.

Each size runs in a fresh process so its memory figures are its own:

* build: rows appended in batches of 100 (what one IndexFunction invocation writes), with
  compaction as the indexer does it, into a local folder;
* query: a cold process opens the folder and loads the newest snapshot; then 200 single
  hybrid searches (k=10) and 50 ``neighbours_for`` batches of 10 (the enrich handler's call);
* memory: peak RSS of that query process, and the increase the snapshot caused.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ticketlens.schemas import EMBEDDING_DIM

BASE_TICKETS = 2000
NOISE = 0.45  # norm of the noise added to a unit base vector: cosine to the base ~0.91
BATCH = 100


def base_tickets(count: int = BASE_TICKETS) -> tuple[list[str], np.ndarray]:
    """Texts and real embeddings of ``count`` generated tickets (embeddings cached by text)."""
    from ticketlens.enrichment.transcript import customer_side
    from ticketlens.generator import TicketFactory
    from ticketlens.training.embed import EmbeddingCache

    factory = TicketFactory(seed=1)
    texts = [customer_side(factory.make(1_762_000_000 + n).text) for n in range(count)]
    return texts, EmbeddingCache().embed(texts)


def synthetic(texts: list[str], vectors: np.ndarray, count: int, seed: int) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(texts), count)
    noise = rng.standard_normal((count, EMBEDDING_DIM)).astype(np.float32) * (NOISE / np.sqrt(EMBEDDING_DIM))
    out = vectors[pick] + noise
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return [texts[i] for i in pick], out


def _status_mb(field: str) -> float:
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _rss_mb() -> float:
    return _status_mb("VmRSS")


def _peak_mb() -> float:
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec from the parent process.
    return _status_mb("VmHWM")


def _quantiles(values: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(values, n=100, method="inclusive")
    return q[49], q[94]


def build(folder: str, count: int, base: str) -> dict[str, float]:
    from ticketlens.similar.index import SegmentedIndex
    from ticketlens.similar.segment import IndexRow
    from ticketlens.similar.storage import FolderStorage

    data = np.load(base, allow_pickle=False)
    texts, vectors = synthetic(data["texts"].tolist(), data["vectors"], count, seed=count)
    index = SegmentedIndex(FolderStorage(folder))
    started = time.perf_counter()
    for start in range(0, count, BATCH):
        index.append([IndexRow(ticket_id=f"B-{n:08d}", created_at=1_762_000_000 + n * 20, embedding=vectors[n],
                               text=texts[n], customer_id=f"C{n % 5000}", intent="bug_report", urgency="low")
                      for n in range(start, min(start + BATCH, count))])
    seconds = time.perf_counter() - started
    manifest = index.latest_manifest()
    size = sum((Path(folder) / entry.name).stat().st_size for entry in manifest.segments)  # the live segments
    snapshot = index.snapshot()
    return {"rows": count, "build_s": seconds, "rows_per_s": count / seconds, "segments": len(snapshot.segments),
            "generation": snapshot.generation, "bytes_at_rest": size, "build_peak_rss_mb": _peak_mb()}


def query(folder: str, count: int, base: str) -> dict[str, float]:
    from ticketlens.similar.index import SegmentedIndex
    from ticketlens.similar.neighbours import TicketQuery, neighbours_for
    from ticketlens.similar.search import Query
    from ticketlens.similar.storage import FolderStorage

    data = np.load(base, allow_pickle=False)
    texts, vectors = synthetic(data["texts"].tolist(), data["vectors"], 700, seed=7)
    before = _rss_mb()
    started = time.perf_counter()
    index = SegmentedIndex(FolderStorage(folder))
    snapshot = index.snapshot()
    load_s = time.perf_counter() - started
    loaded = _rss_mb() - before
    search_ms = []
    for n in range(200):
        t0 = time.perf_counter()
        snapshot.search([Query(vectors[n], texts[n])], 10)
        search_ms.append((time.perf_counter() - t0) * 1000)
    batch_ms = []
    for b in range(50):
        chunk = range(200 + b * 10, 210 + b * 10)
        batch = [TicketQuery(f"Q-{n}", 1_762_000_000 + count * 20 + n, vectors[n], texts[n]) for n in chunk]
        t0 = time.perf_counter()
        neighbours_for(batch, index.snapshot())
        batch_ms.append((time.perf_counter() - t0) * 1000)
    p50, p95 = _quantiles(search_ms)
    b50, b95 = _quantiles(batch_ms)
    return {"load_s": load_s, "snapshot_rss_mb": loaded, "query_peak_rss_mb": _peak_mb(),
            "search_p50_ms": p50, "search_p95_ms": p95, "batch10_p50_ms": b50, "batch10_p95_ms": b95}


def merge_cost(rows: int = 65_535, parts: int = 4) -> dict[str, float]:
    """Time and memory of the largest automatic compaction: ``parts`` segments just under the
    final size merged into one (what IndexFunction may have to do)."""
    from ticketlens.similar.segment import IndexRow, Segment

    texts, vectors = base_tickets()
    segments = []
    for part in range(parts):
        t, v = synthetic(texts, vectors, rows, seed=part)
        built = Segment.from_rows([IndexRow(f"M{part}-{n}", n, v[n], t[n]) for n in range(rows)])
        segments.append(Segment.from_bytes(built.to_bytes()))  # as read back from storage
    before = _rss_mb()
    started = time.perf_counter()
    data = Segment.merge(segments).to_bytes()
    return {"rows": rows * parts, "merge_s": time.perf_counter() - started, "bytes": len(data),
            "inputs_rss_mb": before, "rss_after_mb": _rss_mb()}


def run(sizes: list[int], threads: int = 1) -> list[dict[str, float]]:
    """Each size: build in one fresh process, query in another; returns one row per size."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads),
           "MKL_NUM_THREADS": str(threads)}
    rows = []
    with tempfile.TemporaryDirectory() as work:
        base = os.path.join(work, "base.npz")
        texts, vectors = base_tickets()
        np.savez(base, texts=np.asarray(texts, dtype=np.str_), vectors=vectors)
        for size in sizes:
            folder = os.path.join(work, f"index-{size}")
            row: dict[str, float] = {}
            for step in ("build", "query"):
                out = subprocess.run([sys.executable, "-m", "ticketlens.similar.bench", step, folder, str(size), base],
                                     env=env, check=True, capture_output=True, text=True).stdout
                row.update(json.loads(out.strip().splitlines()[-1]))
            rows.append(row)
    return rows


def projection(rows: list[dict[str, float]], target: int = 10_000_000) -> dict[str, float]:
    """Linear extrapolation from the largest size measured: exact search reads every vector."""
    last = max(rows, key=lambda r: r["rows"])
    scale = target / last["rows"]
    return {"rows": target, "snapshot_rss_mb": last["snapshot_rss_mb"] * scale,
            "bytes_at_rest": last["bytes_at_rest"] * scale,
            "search_p50_ms": last["search_p50_ms"] * scale, "batch10_p50_ms": last["batch10_p50_ms"] * scale,
            "build_s_at_measured_rate": target / last["rows_per_s"]}


def table(rows: list[dict[str, float]]) -> str:
    head = (f"{'tickets':>9} {'build/s':>8} {'segments':>8} {'MB at rest':>10} {'load s':>7} {'snapshot MB':>11} "
            f"{'peak MB':>8} {'search p50/p95 ms':>18} {'batch of 10 p50/p95 ms':>23}")
    lines = [head]
    for r in rows:
        lines.append(f"{int(r['rows']):>9} {r['rows_per_s']:>8.0f} {int(r['segments']):>8} "
                     f"{r['bytes_at_rest'] / 1e6:>10.1f} {r['load_s']:>7.2f} {r['snapshot_rss_mb']:>11.0f} "
                     f"{r['query_peak_rss_mb']:>8.0f} {r['search_p50_ms']:>8.1f}/{r['search_p95_ms']:<9.1f} "
                     f"{r['batch10_p50_ms']:>11.1f}/{r['batch10_p95_ms']:<11.1f}")
    p = projection(rows)
    lines.append(f"projected to {p['rows']:,} tickets (linear): {p['snapshot_rss_mb'] / 1024:.1f} GB in memory, "
                 f"{p['bytes_at_rest'] / 1e9:.1f} GB at rest, search p50 {p['search_p50_ms'] / 1000:.1f} s, "
                 f"batch of 10 p50 {p['batch10_p50_ms'] / 1000:.1f} s, "
                 f"build {p['build_s_at_measured_rate'] / 3600:.1f} h "
                 "at the measured rate")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("build", "query"):
        step, folder, count, base = args[0], args[1], int(args[2]), args[3]
        result = build(folder, count, base) if step == "build" else query(folder, count, base)
        print(json.dumps(result))
        return 0
    import argparse

    parser = argparse.ArgumentParser(prog="similar_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated ticket counts")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1: a shared 2-core machine)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--merge", action="store_true", help="only the cost of the largest automatic merge")
    options = parser.parse_args(args)
    if options.merge:
        cost = merge_cost()
        print(json.dumps(cost) if options.json else
              f"merged {cost['rows']:,} rows in {cost['merge_s']:.1f} s, wrote {cost['bytes'] / 2**20:.0f} MB, "
              f"RSS {cost['inputs_rss_mb']:.0f} MB with the inputs loaded, {cost['rss_after_mb']:.0f} MB after")
        return 0
    rows = run([int(s) for s in options.sizes.split(",")], options.threads)
    print(json.dumps({"rows": rows, "projection": projection(rows)}, indent=2) if options.json else table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
