"""Speed and size of the similar-ticket index at 10k and 100k tickets, projected to 10M.

    .venv/bin/python benchmarks/similar_bench.py                   # 10k and 100k, 1 BLAS thread
    .venv/bin/python benchmarks/similar_bench.py --sizes 10000 --json

How the tickets are made and what is timed: ticketlens.similar.bench. Engines compared for
the same job (numpy, faiss, usearch, hnswlib, LanceDB): benchmarks/similar_engines.py.
"""

import sys

from ticketlens.similar.bench import main

if __name__ == "__main__":
    sys.exit(main())
