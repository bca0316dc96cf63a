"""The shapes a ticket takes on its way through ticketlens: raw in, enriched out.

Seed-compatible with the original demo's schemas; stricter where the demo lost data
silently (ISO timestamps, tickets with no text at all).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

Priority = Literal["critical", "high", "medium", "low"]
Urgency = Literal["critical", "high", "medium", "low"]
Sentiment = Literal["POSITIVE", "NEGATIVE", "NEUTRAL"]

URGENCY_LEVELS: tuple[Urgency, ...] = ("critical", "high", "medium", "low")
# The default intent taxonomy; a custom head (`ticketlens train --labels`) brings its own.
DEFAULT_INTENTS: tuple[str, ...] = (
    "login_issue",
    "account_issue",
    "payment_issue",
    "billing_issue",
    "bug_report",
    "feature_request",
    "security_concern",
    "general_inquiry",
    "other",
)
SENTIMENTS: tuple[Sentiment, ...] = ("NEGATIVE", "NEUTRAL", "POSITIVE")
# Tickets that need no answer: unsolicited mail (spam, phishing), automatic replies (out of
# office, delivery notices) and closing notes that ask for nothing ("Thank you!").
Flag = Literal["spam", "auto_reply", "thanks"]
FLAGS: tuple[Flag, ...] = ("spam", "auto_reply", "thanks")
NO_FLAG = "none"  # the flag head's label for a ticket someone has to answer
EMBEDDING_DIM = 384

# Unix seconds beyond this are almost surely milliseconds (year 5138 in seconds).
_MAX_UNIX_SECONDS = 100_000_000_000
# A producer's clock may run a little ahead; a ticket from further in the future is a bug.
MAX_FUTURE_SECONDS = 24 * 3600
MAX_SUBJECT_CHARS = 2_000
MAX_BODY_CHARS = 100_000
MAX_TICKET_ID_CHARS = 128
# A reject keeps this much of the raw input: enough to see what went wrong, never a whole
# 2 GB upload (the raw object itself stays in the raw bucket).
MAX_REJECT_RAW_CHARS = 4_096
_BOM = "\ufeff"


class TicketMetadata(BaseModel):
    """Where the ticket came from. Unknown keys are kept, so nothing a producer adds is lost."""

    model_config = ConfigDict(extra="allow")

    source: str = "unknown"
    language: str = "en"
    tags: list[str] = Field(default_factory=list)
    # Ground truth a generator or a labelled dataset attaches (intent, urgency, sentiment).
    # The enrichment never reads it: it exists so demos and benchmarks can score output.
    labels: dict[str, str] | None = None


class RawTicket(BaseModel):
    """A ticket as a producer uploads it to the raw bucket."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)

    ticket_id: str = Field(min_length=1, max_length=MAX_TICKET_ID_CHARS)
    subject: str = Field(default="", max_length=MAX_SUBJECT_CHARS)
    body: str = Field(default="", max_length=MAX_BODY_CHARS)
    created_at: int
    customer_id: str = Field(min_length=1, max_length=256)
    priority: Priority | None = None
    metadata: TicketMetadata = Field(default_factory=TicketMetadata)

    @field_validator("ticket_id")
    @classmethod
    def _id_is_key_safe(cls, value: str) -> str:
        # The id becomes part of S3 keys and DynamoDB keys: no path separators or path
        # tricks, nothing invisible (line separators, control and format characters).
        if any(ch.isspace() or ch in "/\\" or not ch.isprintable() for ch in value):
            raise ValueError(
                "ticket_id must not contain whitespace, '/', '\\', line separators or control characters"
            )
        if ".." in value or set(value) == {"."}:
            raise ValueError("ticket_id must not be dots only or contain '..'")
        return value

    @field_validator("created_at", mode="before")
    @classmethod
    def _unix_seconds(cls, value: Any) -> int:
        if isinstance(value, bool) or value is None:
            raise ValueError("created_at must be an integer Unix timestamp in seconds")
        if isinstance(value, str):
            raise ValueError(
                "created_at must be an integer Unix timestamp in seconds, not a string"
                " (convert ISO 8601 with int(datetime.fromisoformat(s).timestamp()))"
            )
        if isinstance(value, float):
            if not math.isfinite(value) or value != int(value):
                raise ValueError("created_at must be a whole number of Unix seconds")
            value = int(value)
        if not isinstance(value, int):
            raise ValueError(f"created_at must be an integer Unix timestamp, got {type(value).__name__}")
        if value < 0:
            raise ValueError("created_at must not be negative")
        if value >= _MAX_UNIX_SECONDS:
            raise ValueError("created_at looks like milliseconds; send Unix seconds")
        if value > time.time() + MAX_FUTURE_SECONDS:
            raise ValueError("created_at is more than a day in the future; send Unix seconds (UTC)")
        return value

    @field_validator("priority", mode="before")
    @classmethod
    def _priority_lowercase(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().lower()
            return value or None
        return value

    @model_validator(mode="after")
    def _has_text(self) -> RawTicket:
        if not self.subject and not self.body:
            raise ValueError("ticket has no text: subject and body are both empty")
        return self

    @property
    def text(self) -> str:
        """The text the models read: subject and body as one passage."""
        if self.subject and self.body:
            return f"{self.subject}\n{self.body}"
        return self.subject or self.body


class SimilarTicket(BaseModel):
    """An earlier ticket like this one, with the hybrid score it was found by (0..1)."""

    ticket_id: str
    score: float


class EnrichmentData(BaseModel):
    """What the models add to a ticket. Every confidence is a calibrated probability.

    ``similar``, ``duplicate_of`` and ``incident`` come from the similar-ticket index
    (docs/similar.md); they are absent where no index was consulted.
    """

    embedding: list[float] = Field(min_length=EMBEDDING_DIM, max_length=EMBEDDING_DIM)
    intent: str
    intent_confidence: float = Field(ge=0.0, le=1.0)
    urgency: Urgency
    urgency_confidence: float = Field(ge=0.0, le=1.0)
    sentiment: Sentiment
    sentiment_confidence: float = Field(ge=0.0, le=1.0)
    summary: str
    processed_at: str
    model_version: str
    similar: list[SimilarTicket] | None = None
    duplicate_of: str | None = None
    incident: str | None = None
    # ISO 639-1 code ("und" for a text without letters) and the probability of that code.
    # The intent and sentiment heads read English: their confidences are discounted by the
    # probability that the text is not English (docs/quality.md, "Language").
    language: str = "und"
    language_confidence: float = Field(default=0.0, ge=0.0, le=1.0)
    # Set when the ticket needs no action (spam, an automatic reply, a thank-you note) with
    # probability >= the flag threshold; flag_confidence is that probability, on every ticket.
    flag: Flag | None = None
    flag_confidence: float = Field(default=0.0, ge=0.0, le=1.0)
    # How much the head's ensemble members disagree on its top label (the standard deviation
    # of their probabilities; 0 = all agree; None for a head stored as one network). The
    # deployment's recent tickets' disagreement sets the intent head's temperature
    # (``Traffic``, docs/quality.md).
    intent_disagreement: float | None = Field(default=None, ge=0.0, le=1.0)
    sentiment_disagreement: float | None = Field(default=None, ge=0.0, le=1.0)


class EnrichedTicket(RawTicket):
    """The full record written to the enriched bucket: every raw field plus the enrichment."""

    enrichment: EnrichmentData

    @classmethod
    def from_raw(cls, raw: RawTicket, enrichment: EnrichmentData) -> EnrichedTicket:
        return cls.model_validate({**raw.model_dump(), "enrichment": enrichment})


class TicketRecord(BaseModel):
    """The DynamoDB item: queryable metadata, no embedding (it lives in the S3 record)."""

    ticket_id: str
    created_at: int
    subject: str
    customer_id: str
    priority: Priority | None = None
    source: str
    intent: str
    intent_confidence: float
    urgency: Urgency
    urgency_confidence: float
    sentiment: Sentiment
    sentiment_confidence: float
    summary: str
    processed_at: str
    model_version: str
    s3_key: str
    # The raw ticket's fingerprint (``fingerprint``): what makes a second upload "the same ticket".
    content_sha256: str | None = None
    # Ids only, best first (scores are in the full record): DynamoDB numbers nested in a list
    # would come back as Decimal.
    similar: list[str] | None = None
    duplicate_of: str | None = None
    incident: str | None = None
    language: str | None = None
    flag: Flag | None = None
    flag_confidence: float | None = None
    intent_disagreement: float | None = None
    sentiment_disagreement: float | None = None

    @classmethod
    def from_enriched(cls, ticket: EnrichedTicket, s3_key: str) -> TicketRecord:
        e = ticket.enrichment
        return cls(
            ticket_id=ticket.ticket_id,
            created_at=ticket.created_at,
            subject=ticket.subject,
            customer_id=ticket.customer_id,
            priority=ticket.priority,
            source=ticket.metadata.source,
            intent=e.intent,
            intent_confidence=e.intent_confidence,
            urgency=e.urgency,
            urgency_confidence=e.urgency_confidence,
            sentiment=e.sentiment,
            sentiment_confidence=e.sentiment_confidence,
            summary=e.summary,
            processed_at=e.processed_at,
            model_version=e.model_version,
            s3_key=s3_key,
            content_sha256=fingerprint(ticket),
            similar=[s.ticket_id for s in e.similar] if e.similar is not None else None,
            duplicate_of=e.duplicate_of,
            incident=e.incident,
            language=e.language,
            flag=e.flag,
            flag_confidence=e.flag_confidence,
            intent_disagreement=e.intent_disagreement,
            sentiment_disagreement=e.sentiment_disagreement,
        )


# A head's disagreement enters its deployment's traffic as log(u + floor): a geometric mean,
# so the few tickets the members fight over do not drown the many they agree on.
DISAGREEMENT_FLOOR = 1e-3
TRAFFIC_UNITS = 1000  # the counts table keeps sums of integers: thousandths of log(u + floor)


def traffic_units(disagreement: float) -> int:
    """One ticket's contribution to its deployment's traffic sum (thousandths)."""
    return round(TRAFFIC_UNITS * math.log(float(disagreement) + DISAGREEMENT_FLOOR))


@dataclass(frozen=True)
class Traffic:
    """A deployment's recent tickets as one head saw them: how many, and the sum of their
    ``traffic_units``. Empty: nothing seen yet (the head then assumes a typical new domain)."""

    n: int = 0
    units: int = 0

    def plus(self, disagreement: Iterable[float]) -> Traffic:
        values = [traffic_units(u) for u in disagreement]
        return Traffic(self.n + len(values), self.units + sum(values))

    @property
    def mean_log_disagreement(self) -> float | None:
        return self.units / TRAFFIC_UNITS / self.n if self.n else None


class Rejected(BaseModel):
    """A ticket that could not be enriched, with the reason. Rejects are kept, never dropped.

    ``raw`` is the input as received, cut to :data:`MAX_REJECT_RAW_CHARS`: enough to see
    what went wrong and fix it; the whole input stays where it came from (the raw bucket,
    the input file). ``raw_size`` is the size of the whole input in bytes.
    """

    where: str  # "line 7", "s3://tickets-raw/tickets/2026/11/23/TKT-1.json", ...
    reason: str
    raw: str = ""
    raw_size: int | None = None
    raw_truncated: bool = False

    @classmethod
    def of(cls, where: str, reason: str, raw: str | bytes = b"", raw_size: int | None = None) -> Rejected:
        """A reject keeping a bounded prefix of ``raw`` (bytes are decoded leniently)."""
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        size = raw_size if raw_size is not None else (len(raw) if isinstance(raw, bytes) else len(raw.encode()))
        truncated = len(text) > MAX_REJECT_RAW_CHARS or size > len(text.encode())
        return cls(where=where, reason=reason, raw=text[:MAX_REJECT_RAW_CHARS], raw_size=size,
                   raw_truncated=truncated)


def fingerprint(ticket: RawTicket) -> str:
    """sha256 of the ticket as the producer sent it (every raw field, canonical JSON).

    Two uploads with the same fingerprint are the same ticket delivered twice; the same
    ``ticket_id`` with another fingerprint is another ticket (see ``docs/pipeline.md``,
    "Ticket identity"). An enriched ticket hashes as its raw self.
    """
    raw = ticket.model_dump(mode="json", exclude={"enrichment"})
    canonical = json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def utc_now_iso() -> str:
    """ISO 8601 UTC with a Z suffix, millisecond precision."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def explain(error: ValidationError) -> str:
    """One line naming each bad field and what is wrong with it (no input values echoed)."""
    parts = []
    for item in error.errors(include_url=False, include_input=False):
        where = ".".join(str(p) for p in item["loc"]) or "ticket"
        message = item["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}")
    return "; ".join(parts)


def parse_ticket(data: str | bytes | dict[str, Any], where: str) -> RawTicket | Rejected:
    """Parse one raw ticket from JSON text, UTF-8 bytes or a dict; errors come back as values.

    A UTF-8 byte-order mark before the JSON is tolerated (editors on Windows write one).
    A reason names what is wrong and never echoes the input's values.
    """
    if isinstance(data, dict):
        raw: str | bytes = json.dumps(data, ensure_ascii=False, default=str)
        text: str | None = None
    elif isinstance(data, bytes):
        raw = data
        if not data.strip():
            return Rejected.of(where, "empty: the object has no content (0 bytes or only whitespace)", data)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            return Rejected.of(
                where,
                f"not UTF-8 text: byte 0x{data[error.start]:02x} at offset {error.start} cannot be decoded"
                " (a ticket is JSON in UTF-8)",
                data,
            )
    else:
        raw = text = data
    if text is not None:
        text = text.removeprefix(_BOM)
        if not text.strip():
            return Rejected.of(where, "empty: no JSON at all", raw)
    try:
        if text is None:
            return RawTicket.model_validate(data)
        return RawTicket.model_validate_json(text)
    except ValidationError as error:
        first = error.errors()[0]
        if text is not None and first["type"] == "json_invalid":
            reason = f"not valid JSON: {first['msg'].removeprefix('Invalid JSON: ')}"
        elif first["type"] == "model_type":
            reason = "not a JSON object: a ticket must be an object with ticket_id, body, created_at, customer_id"
        else:
            reason = explain(error)
        return Rejected.of(where, reason, raw)
