"""Vector engines for the similar-ticket index, side by side on the same vectors.

    # 1. the vectors: real embeddings of 2,000 generated tickets (the project's venv)
    .venv/bin/python benchmarks/similar_engines.py vectors /tmp/base.npy
    # 2. the engines, in any venv with numpy and the engines to compare (pip install '.[engines]')
    python benchmarks/similar_engines.py run /tmp/base.npy --rows 100000

Each engine runs in a fresh process (its memory is its own), one thread, on ``--rows``
vectors made from the base vectors plus Gaussian noise (cosine ~0.9 to their base, as in
ticketlens.similar.bench). Reported: build seconds, single-query latency p50/p95 (k=10, 200
queries), recall@10 against exact search, RSS added by the index (for numpy, the float32
array itself), and the unpacked size of the installed package with its own dependencies.
Engines not installed are listed as skipped, with the reason.

Only dense k-NN is compared here: that is the part an engine would take over. numpy-f32 is
what the embedded default does (exact, vectors widened to float32 in memory).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

K = 10
QUERIES = 200
DIM = 384
NOISE = 0.45
ENGINES = ("numpy-f32", "faiss-flat", "faiss-hnsw", "usearch-hnsw-f16", "usearch-hnsw-i8", "hnswlib",
           "lancedb-flat", "lancedb-ivfpq")
PACKAGES = {"numpy": ("numpy", "numpy.libs"), "faiss": ("faiss", "faiss_cpu.libs"),
            "usearch": ("usearch", "numkong", "numkong.libs"), "hnswlib": ("hnswlib",),
            "lancedb": ("lancedb", "pyarrow", "lance_namespace", "lance_namespace_urllib3_client")}


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def make(base: np.ndarray, count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    picked = base[rng.integers(0, len(base), count)]  # drawn before the noise, as always
    out = picked + rng.standard_normal((count, DIM)).astype(np.float32) * (NOISE / np.sqrt(DIM))
    return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)


def package_mb(module: str) -> float:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        if spec is None or spec.origin is None:
            return float("nan")
        site = Path(spec.origin).parent
    else:
        site = Path(next(iter(spec.submodule_search_locations))).parent
    files: set[Path] = set()
    for name in PACKAGES.get(module, (module,)):
        for path in site.glob(f"{name}*"):
            files |= {path} if path.is_file() else {p for p in path.rglob("*") if p.is_file()}
    return sum(p.stat().st_size for p in files) / 1e6


def one(engine: str, base_path: str, rows: int) -> dict[str, object]:
    base = np.load(base_path)
    data = make(base, rows, seed=rows)
    queries = make(base, QUERIES, seed=7)
    exact = np.argsort(-(queries @ data.T), axis=1)[:, :K]
    del base
    before = _rss_mb()
    started = time.perf_counter()
    search, module = _build(engine, data)
    build_s = time.perf_counter() - started
    added = _rss_mb() - before + (data.nbytes / 2**20 if engine == "numpy-f32" else 0.0)  # numpy's index is the array
    latencies, found = [], []
    for q in queries:
        t0 = time.perf_counter()
        ids = search(q)
        latencies.append((time.perf_counter() - t0) * 1000)
        found.append(ids)
    recall = float(np.mean([len(set(map(int, f)) & set(map(int, e))) / K for f, e in zip(found, exact, strict=True)]))
    q = np.percentile(latencies, [50, 95])
    return {"engine": engine, "rows": rows, "build_s": round(build_s, 2), "p50_ms": round(float(q[0]), 2),
            "p95_ms": round(float(q[1]), 2), "recall_at_10": round(recall, 4), "index_rss_mb": round(added, 1),
            "package_mb": round(package_mb(module), 1)}


def _build(engine: str, data: np.ndarray):  # type: ignore[no-untyped-def]
    if engine == "numpy-f32":
        def numpy_search(q: np.ndarray) -> np.ndarray:
            scores = data @ q
            top = np.argpartition(-scores, K)[:K]
            return top[np.argsort(-scores[top])]
        return numpy_search, "numpy"
    if engine.startswith("faiss"):
        import faiss

        faiss.omp_set_num_threads(1)
        if engine == "faiss-flat":
            index = faiss.IndexFlatIP(DIM)
        else:
            index = faiss.IndexHNSWFlat(DIM, 32, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = 64
            index.hnsw.efSearch = 64
        index.add(data)
        return (lambda q: index.search(q[None, :], K)[1][0]), "faiss"
    if engine.startswith("usearch"):
        from usearch.index import Index

        index = Index(ndim=DIM, metric="cos", dtype="f16" if engine.endswith("f16") else "i8")
        index.add(np.arange(len(data)), data, threads=1)
        return (lambda q: index.search(q, K, threads=1).keys), "usearch"
    if engine == "hnswlib":
        import hnswlib

        index = hnswlib.Index(space="ip", dim=DIM)
        index.init_index(max_elements=len(data), M=16, ef_construction=100)
        index.set_num_threads(1)
        index.add_items(data, np.arange(len(data)))
        index.set_ef(64)
        return (lambda q: index.knn_query(q, k=K)[0][0]), "hnswlib"
    if engine.startswith("lancedb"):
        import lancedb
        import pyarrow as pa

        folder = tempfile.mkdtemp(prefix="lancedb-")
        db = lancedb.connect(folder)
        table = db.create_table("tickets", pa.table({
            "id": pa.array(np.arange(len(data))),
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(data.reshape(-1)), DIM),
        }))
        if engine == "lancedb-ivfpq":
            table.create_index(metric="dot", num_partitions=max(16, int(np.sqrt(len(data)))), num_sub_vectors=48)

            def ivf(q: np.ndarray) -> np.ndarray:
                return table.search(q).metric("dot").nprobes(20).refine_factor(5).limit(K).to_arrow()["id"].to_numpy()
            return ivf, "lancedb"
        return (lambda q: table.search(q).metric("dot").limit(K).to_arrow()["id"].to_numpy()), "lancedb"
    raise ValueError(engine)


def _module_of(engine: str) -> str:
    return {"numpy": "numpy", "faiss": "faiss", "usearch": "usearch", "hnswlib": "hnswlib", "lancedb": "lancedb"}[
        engine.split("-")[0]]


def run(base_path: str, rows: int, engines: list[str]) -> list[dict[str, object]]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "LANCE_CPU_THREADS": "1", "LANCE_IO_THREADS": "2"}
    results = []
    for engine in engines:
        if importlib.util.find_spec(_module_of(engine)) is None:
            results.append({"engine": engine, "skipped": f"{_module_of(engine)} is not installed"})
            continue
        done = subprocess.run([sys.executable, __file__, "one", engine, base_path, str(rows)], env=env,
                              capture_output=True, text=True)
        if done.returncode != 0:
            results.append({"engine": engine, "skipped": done.stderr.strip().splitlines()[-1][:200]})
            continue
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    return results


def table(results: list[dict[str, object]]) -> str:
    lines = [f"{'engine':<18} {'rows':>8} {'build s':>8} {'p50 ms':>7} {'p95 ms':>7} {'recall@10':>9} "
             f"{'index MB':>9} {'package MB':>10}"]
    for r in results:
        if "skipped" in r:
            lines.append(f"{r['engine']:<18} skipped: {r['skipped']}")
            continue
        lines.append(f"{r['engine']:<18} {r['rows']:>8} {r['build_s']:>8} {r['p50_ms']:>7} {r['p95_ms']:>7} "
                     f"{r['recall_at_10']:>9} {r['index_rss_mb']:>9} {r['package_mb']:>10}")
    return "\n".join(lines)


def main() -> int:
    args = sys.argv[1:]
    if args[:1] == ["vectors"]:
        from ticketlens.similar.bench import base_tickets

        np.save(args[1], base_tickets()[1])
        print(f"wrote {args[1]}")
        return 0
    if args[:1] == ["one"]:
        print(json.dumps(one(args[1], args[2], int(args[3]))))
        return 0
    if args[:1] == ["run"]:
        import argparse

        parser = argparse.ArgumentParser(prog="similar_engines run")
        parser.add_argument("base")
        parser.add_argument("--rows", type=int, default=100_000)
        parser.add_argument("--engines", default=",".join(ENGINES))
        parser.add_argument("--json", action="store_true")
        options = parser.parse_args(args[1:])
        results = run(options.base, options.rows, options.engines.split(","))
        print(json.dumps(results, indent=2) if options.json else table(results))
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
