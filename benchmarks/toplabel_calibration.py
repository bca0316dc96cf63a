"""Top-label (Platt) calibration after the temperature, nested leave-one-domain-out ECE.

    .venv/bin/python benchmarks/toplabel_calibration.py --head intent
    .venv/bin/python benchmarks/toplabel_calibration.py --head intent --in-domain-share 0.5
    .venv/bin/python benchmarks/toplabel_calibration.py --head intent --source-views drop
    .venv/bin/python benchmarks/toplabel_calibration.py --head sentiment --json

Fits the head and one head per left-out domain exactly as `ticketlens train` does (about 3
minutes for intent with the embedding cache), then scores each calibration variant:
ticketlens.training.toplabel_eval.
"""

import sys

from ticketlens.training.toplabel_eval import main

if __name__ == "__main__":
    sys.exit(main())
