"""One settings object for every front door (CLI, Lambda handlers, local runner).

Precedence, highest first: keyword arguments to ``Settings(...)``, environment variables
(``TICKETLENS_*``, plus the standard ``AWS_ENDPOINT_URL`` / ``AWS_REGION``), then the
defaults below. Resource names default to the seed's names; in Lambda the SAM template
passes the real names through the environment, so nothing reads names from code constants.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_model_dir() -> Path:
    # A Lambda model layer unpacks under /opt; everywhere else, a per-user cache.
    layer_dir = Path("/opt/ticketlens/models")
    if layer_dir.is_dir():
        return layer_dir
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "ticketlens" / "models"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TICKETLENS_", extra="ignore")

    # --- models -------------------------------------------------------------------------
    model_dir: Path = Field(default_factory=_default_model_dir)
    # fp32 is the faithful default (cosine 1.0 to sentence-transformers); int8 is faster.
    encoder_variant: Literal["fp32", "int8"] = "fp32"
    # "default" = the heads shipped inside the package; otherwise a path to a head .npz.
    intent_head: str = "default"
    sentiment_head: str = "default"
    flag_head: str = "default"  # spam / automatic reply / thank-you note (no action needed)
    max_tokens: int = Field(default=256, ge=16, le=512)
    batch_size: int = Field(default=32, ge=1, le=1024)
    threads: int = Field(default=0, ge=0)  # 0 = one per available core
    build_if_missing: bool = True

    # --- AWS ----------------------------------------------------------------------------
    endpoint_url: str | None = Field(
        default=None, validation_alias=AliasChoices("TICKETLENS_ENDPOINT_URL", "AWS_ENDPOINT_URL")
    )
    region: str = Field(
        default="us-east-1",
        validation_alias=AliasChoices("TICKETLENS_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"),
    )
    raw_bucket: str = "tickets-raw"
    enriched_bucket: str = "tickets-enriched"
    queue_name: str = "ticket-processing-queue"
    dlq_name: str = "ticket-processing-dlq"
    table_name: str = "tickets-metadata"
    idempotency_table: str = "tickets-idempotency"
    # Tickets per minute and hour by label, written with each ticket (ticketlens.counts).
    counts_table: str = "tickets-counts"
    rejects_prefix: str = "rejects/"
    # Raw objects larger than this are rejects (read with one ranged GET, never whole).
    # 1 MiB holds the largest valid ticket (100,000 characters of body) in any script.
    max_object_bytes: int = Field(default=1_048_576, ge=1024)

    # --- generator ----------------------------------------------------------------------
    # Tickets the scheduled GenerateFunction writes per invocation (template.yaml passes the
    # TicketsPerInvocation parameter as TICKETLENS_GENERATE_COUNT).
    generate_count: int = Field(default=5, ge=1, le=1000)

    # pipeline (issue 4): how long the enrich handler remembers a processed (bucket, key, etag),
    # and the CloudFormation stack the local tools deploy `template.yaml` as.
    idempotency_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=60)
    stack_name: str = "ticketlens"

    # similar tickets (issue 15): where the index lives, a folder or s3://bucket/prefix/.
    # Unset: the deployed stack's, s3://<enriched_bucket>/index/ (docs/similar.md).
    index_uri: str | None = None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
