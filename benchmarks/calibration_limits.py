"""How far a calibration fitted without a domain can go on it, next to each domain's oracle
temperature; and what one training source is worth to the sets no head trains on.

    .venv/bin/python benchmarks/calibration_limits.py --head intent
    .venv/bin/python benchmarks/calibration_limits.py --head sentiment
    .venv/bin/python benchmarks/calibration_limits.py --head sentiment --drop-source tweeteval --seeds 0 1 2

ticketlens.training.calibration_limits; figures and what they mean in docs/quality.md.
"""

import sys

from ticketlens.training.calibration_limits import main

if __name__ == "__main__":
    sys.exit(main())
