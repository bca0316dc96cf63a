"""Enrich one ticket with nothing but the two built layers, as Lambda's python3.12 would.

Run by `make layer-size` under a Python 3.12 with no site-packages of its own (`-s`, the
library layer alone on PYTHONPATH, the model layer as TICKETLENS_MODEL_DIR): a missing
dependency, a wheel built for the wrong Python, or a model the code cannot read fails here
instead of at a deployed function's first invocation.
"""

import sys

from ticketlens.enrichment import get_enricher
from ticketlens.schemas import RawTicket

ticket = RawTicket(
    ticket_id="LAYER-SMOKE-1",
    subject="Charged twice",
    body="I was charged twice for my plan this month, please refund one of the payments.",
    created_at=1796000000,
    customer_id="C-1",
)
enriched = get_enricher().enrich([ticket])[0].enrichment
assert len(enriched.embedding) == 384, len(enriched.embedding)
print(f"layers enrich on Python {sys.version.split()[0]}: {enriched.intent} / {enriched.urgency} / "
      f"{enriched.sentiment}, {len(enriched.embedding)}-dim embedding")
