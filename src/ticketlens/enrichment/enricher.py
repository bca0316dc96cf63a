"""The Enricher: raw tickets in, enriched tickets out, one encoder pass per batch.

Pure computation: it knows nothing of AWS. The CLI, the Lambda handler and the local
runner all call `Enricher.enrich`, so there is one code path for every front door. The one
input beyond the tickets is the deployment's traffic (how much each head's members have
disagreed on its recent tickets), which sets the intent head's temperature: the handler
passes what the store has counted; elsewhere the enricher counts what it has enriched.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ticketlens.enrichment import urgency
from ticketlens.enrichment.flags import no_action
from ticketlens.enrichment.heads import ClassifierHead, load_head
from ticketlens.enrichment.language import LanguageDetector, discount, get_detector
from ticketlens.enrichment.summary import ExtractiveSummarizer, Summarizer
from ticketlens.enrichment.transcript import customer_side
from ticketlens.models import TextEncoder, load_encoder
from ticketlens.schemas import NO_FLAG, EnrichedTicket, EnrichmentData, Flag, RawTicket, Traffic, utc_now_iso
from ticketlens.settings import Settings, get_settings


@dataclass
class StageTimes:
    """Seconds spent per stage, summed over calls; read by metrics and the benchmark."""

    encode: float = 0.0
    heads: float = 0.0
    summary: float = 0.0
    urgency: float = 0.0
    language: float = 0.0
    tickets: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **seconds: float) -> None:
        with self._lock:
            for name, value in seconds.items():
                setattr(self, name, getattr(self, name) + value)


class Enricher:
    """Embedding, intent, sentiment, urgency and summary for a batch of tickets."""

    def __init__(
        self,
        encoder: TextEncoder,
        intent_head: ClassifierHead,
        sentiment_head: ClassifierHead,
        summarizer: Summarizer,
        *,
        flag_head: ClassifierHead | None = None,
        language_detector: LanguageDetector | None = None,
        batch_size: int = 32,
        urgency_slope: float = urgency.DEFAULT_SLOPE,
    ) -> None:
        if sentiment_head.labels and set(sentiment_head.labels) != {"NEGATIVE", "NEUTRAL", "POSITIVE"}:
            raise ValueError(f"sentiment head labels must be NEGATIVE/NEUTRAL/POSITIVE, got {sentiment_head.labels}")
        self.encoder = encoder
        self.intent_head = intent_head
        self.sentiment_head = sentiment_head
        self.summarizer = summarizer
        if flag_head is not None and NO_FLAG not in flag_head.labels:
            raise ValueError(f"flag head labels must include {NO_FLAG!r}, got {flag_head.labels}")
        self.flag_head = flag_head
        self.language_detector = language_detector or get_detector()
        self.batch_size = batch_size
        self.urgency_slope = urgency_slope
        self._negative_column = sentiment_head.labels.index("NEGATIVE")
        self.model_version = "+".join(
            (
                encoder.version,
                f"intent-{intent_head.version}",
                f"sentiment-{sentiment_head.version}",
                *([f"flag-{flag_head.version}"] if flag_head is not None else []),
                f"summary-{summarizer.version}",
                f"urgency-{urgency.RULES_VERSION}",
                f"lang-{self.language_detector.version}",
            )
        )
        self.times = StageTimes()
        self._seen = {"intent": Traffic(), "sentiment": Traffic()}
        self._seen_lock = threading.Lock()

    def seen_traffic(self) -> dict[str, Traffic]:
        """Per head, the tickets this enricher has enriched without a traffic given to it."""
        with self._seen_lock:
            return dict(self._seen)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Enricher:
        settings = settings or get_settings()
        return cls(
            load_encoder(settings),
            load_head(settings.intent_head, "intent"),
            load_head(settings.sentiment_head, "sentiment"),
            ExtractiveSummarizer(),
            flag_head=load_head(settings.flag_head, "flag"),
            batch_size=settings.batch_size,
        )

    def enrich(
        self, tickets: Sequence[RawTicket], traffic: Mapping[str, Traffic] | None = None
    ) -> list[EnrichedTicket]:
        """Enrich tickets in input order; the whole batch shares one encoder pass.

        ``traffic``: the deployment's recent tickets per head (``"intent"``, ``"sentiment"``),
        as the store counts them. Without it the enricher uses, and adds this batch to, the
        tickets it has enriched itself."""
        if not tickets:
            return []
        current = self.seen_traffic() if traffic is None else traffic
        texts = [customer_side(ticket.text) for ticket in tickets]
        t0 = time.perf_counter()
        encoded = self.encoder.encode(texts, self.batch_size)
        t1 = time.perf_counter()
        languages = self.language_detector.detect(texts)
        english = [language.english for language in languages]
        t_language = time.perf_counter()
        shared: dict[str, np.ndarray] = {}  # text features read once per batch, whichever head asks
        intent = self.intent_head.score(encoded.embeddings, texts, shared, current.get("intent"))
        sentiment = self.sentiment_head.score(encoded.embeddings, texts, shared, current.get("sentiment"))
        intent_probs, sentiment_probs = discount(intent.probs, english), discount(sentiment.probs, english)
        # a head saved without its members (one network, as far as it knows) has no disagreement
        disagreement: dict[str, list[float | None]] = {
            head: list(_rounded(scored.disagreement, 4)) if model.members > 1 else [None] * len(tickets)
            for head, scored, model in (("intent", intent, self.intent_head),
                                        ("sentiment", sentiment, self.sentiment_head))
        }
        flags = self._flags(encoded.embeddings, texts, english, shared)
        t2 = time.perf_counter()
        summaries = self.summarizer.summarize(texts, encoded)
        t3 = time.perf_counter()
        intents = [self.intent_head.labels[j] for j in intent_probs.argmax(axis=1)]
        urgencies = urgency.assess(
            texts,
            intents,
            sentiment_probs[:, self._negative_column].tolist(),
            [ticket.priority for ticket in tickets],
            slope=self.urgency_slope,
            no_action=[confidence if flag else None for flag, confidence in flags],
        )
        t4 = time.perf_counter()
        self.times.add(
            encode=t1 - t0,
            language=t_language - t1,
            heads=t2 - t_language,
            summary=t3 - t2,
            urgency=t4 - t3,
            tickets=len(tickets),
        )

        processed_at = utc_now_iso()
        enriched = []
        for i, ticket in enumerate(tickets):
            intent_j = int(intent_probs[i].argmax())
            sentiment_j = int(sentiment_probs[i].argmax())
            data = EnrichmentData.model_construct(
                embedding=_rounded(encoded.embeddings[i], 6),
                intent=self.intent_head.labels[intent_j],
                intent_confidence=round(float(intent_probs[i, intent_j]), 4),
                urgency=urgencies[i].level,
                urgency_confidence=round(urgencies[i].confidence, 4),
                sentiment=self.sentiment_head.labels[sentiment_j],
                sentiment_confidence=round(float(sentiment_probs[i, sentiment_j]), 4),
                summary=summaries[i],
                processed_at=processed_at,
                model_version=self.model_version,
                language=languages[i].code,
                language_confidence=languages[i].confidence,
                flag=flags[i][0],
                flag_confidence=round(flags[i][1], 4),
                intent_disagreement=disagreement["intent"][i],
                sentiment_disagreement=disagreement["sentiment"][i],
            )
            enriched.append(EnrichedTicket.model_construct(**dict(ticket), enrichment=data))
        if traffic is None:
            with self._seen_lock:
                self._seen = with_tickets(self._seen, enriched)
        return enriched

    def _flags(
        self, embeddings: np.ndarray, texts: Sequence[str], english: Sequence[float], shared: dict[str, np.ndarray]
    ) -> list[tuple[Flag | None, float]]:
        """(flag or None, probability that the ticket needs no action) per ticket (flags.py)."""
        if self.flag_head is None:
            return [(None, 0.0)] * len(texts)
        return no_action(self.flag_head.predict_proba(embeddings, texts, shared), self.flag_head.labels, english)


def with_tickets(traffic: Mapping[str, Traffic], tickets: Sequence[EnrichedTicket]) -> dict[str, Traffic]:
    """``traffic`` plus these enriched tickets' disagreement, per head: what a caller that
    streams tickets through the enricher keeps between batches."""
    out = dict(traffic)
    for head in ("intent", "sentiment"):
        values = [getattr(t.enrichment, f"{head}_disagreement") for t in tickets]
        out[head] = out.get(head, Traffic()).plus(v for v in values if v is not None)
    return out


def _rounded(vector: np.ndarray, decimals: int) -> list[float]:
    # embeddings: 6 decimals keep cosine error below 1e-6 and halve the JSON size
    rounded: list[float] = np.round(vector.astype(np.float64), decimals).tolist()
    return rounded


_shared: Enricher | None = None
_shared_lock = threading.Lock()


def get_enricher(settings: Settings | None = None) -> Enricher:
    """The process-wide Enricher, built once (a Lambda container loads models once)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Enricher.from_settings(settings)
        return _shared
