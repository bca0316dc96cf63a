"""Make tickets that know their own truth. Pure: no I/O, no clock, only a seeded RNG.

Given the same seed and the same ``created_at`` values, a ``TicketFactory`` makes the same
tickets byte for byte, so benchmark files can be regenerated instead of stored.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from typing import Literal, TypeVar

from ticketlens.generator import style
from ticketlens.generator.ids import TicketIds
from ticketlens.generator.model import INTENTS, Kind, Template, Tone, sentiment_of
from ticketlens.generator.templates import BY_INTENT
from ticketlens.generator.vocabulary import Vars
from ticketlens.schemas import Priority, RawTicket, TicketMetadata, Urgency

Length = Literal["short", "medium", "long"]
T = TypeVar("T")

# Roughly the mix a SaaS help desk sees; override per run with --weights.
DEFAULT_INTENT_WEIGHTS: Mapping[str, float] = {
    "login_issue": 0.14,
    "account_issue": 0.10,
    "payment_issue": 0.10,
    "billing_issue": 0.13,
    "bug_report": 0.17,
    "feature_request": 0.09,
    "security_concern": 0.06,
    "general_inquiry": 0.13,
    "other": 0.08,
}

_TONE_WEIGHTS: Mapping[Kind, Mapping[Tone, float]] = {
    "complaint": {"furious": 0.25, "polite": 0.30, "neutral": 0.33, "grateful": 0.12},
    "request": {"furious": 0.10, "polite": 0.35, "neutral": 0.40, "grateful": 0.15},
    "praise": {"polite": 0.35, "neutral": 0.20, "grateful": 0.45},
    "noise": {"neutral": 1.0},
}
_SOURCES: Mapping[str, float] = {"email": 0.40, "web": 0.30, "chat": 0.20, "api": 0.05, "mobile": 0.05}
_LENGTHS: Mapping[str, Mapping[Length, float]] = {
    "email": {"short": 0.12, "medium": 0.50, "long": 0.38},
    "web": {"short": 0.20, "medium": 0.55, "long": 0.25},
    "chat": {"short": 0.55, "medium": 0.40, "long": 0.05},
    "api": {"short": 0.25, "medium": 0.55, "long": 0.20},
    "mobile": {"short": 0.45, "medium": 0.45, "long": 0.10},
}
# How often a customer fills in the priority field, by channel (a web form asks; chat does not).
_PRIORITY_RATE: Mapping[str, float] = {"email": 0.25, "web": 0.80, "chat": 0.0, "api": 0.9, "mobile": 0.5}
_TAGS: tuple[str, ...] = ("vip", "trial", "region:eu", "region:us", "region:apac", "plan:{plan}", "returning")
_STAKES_RATE = 0.4


def _weighted(rng: random.Random, weights: Mapping[T, float]) -> T:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def check_weights(weights: Mapping[str, float]) -> dict[str, float]:
    """Validate intent weights; raises ValueError with the reason."""
    unknown = sorted(set(weights) - set(INTENTS))
    if unknown:
        raise ValueError(f"unknown intent(s) {', '.join(unknown)}; known: {', '.join(INTENTS)}")
    if any(w < 0 or w != w for w in weights.values()):
        raise ValueError("intent weights must be zero or positive numbers")
    if not any(w > 0 for w in weights.values()):
        raise ValueError("at least one intent weight must be positive")
    return dict(weights)


class TicketFactory:
    """Seeded source of labelled tickets."""

    def __init__(self, seed: int | str | None = None, intent_weights: Mapping[str, float] | None = None) -> None:
        self.intent_weights = check_weights(intent_weights or DEFAULT_INTENT_WEIGHTS)
        # Separate streams: how ids are drawn never shifts what the texts say.
        self._rng = random.Random(f"{seed}/content") if seed is not None else random.Random()
        self._ids = TicketIds(random.Random(f"{seed}/ids") if seed is not None else random.Random())

    def make(self, created_at: int) -> RawTicket:
        rng = self._rng
        intent = _weighted(rng, self.intent_weights)
        templates = BY_INTENT[intent]
        template = rng.choices(templates, weights=[t.weight for t in templates])[0]
        tone = _weighted(rng, {t: w for t, w in _TONE_WEIGHTS[template.kind].items() if t in template.tones})
        source = _weighted(rng, _SOURCES)
        draft = _Draft(rng, template, tone, source, Vars(rng))
        subject, body, urgency = draft.write()
        return RawTicket(
            ticket_id=self._ids.next(created_at),
            subject=subject,
            body=body,
            created_at=created_at,
            customer_id=f"CUST-{rng.randint(1, 60_000):06d}",
            priority=_customer_priority(rng, source, tone, urgency),
            metadata=TicketMetadata.model_validate({
                "source": source,
                "language": "en",
                "tags": sorted({draft.fill(rng.choice(_TAGS)) for _ in range(rng.choice((0, 0, 0, 1, 1, 2)))}),
                "labels": {"intent": intent, "urgency": urgency, "sentiment": sentiment_of(template.kind, tone)},
                "generator": {"template": template.name, "tone": tone},
            }),
        )


def _customer_priority(rng: random.Random, source: str, tone: Tone, urgency: Urgency) -> Priority | None:
    """What the customer picked: a signal, often off, never the label itself."""
    if rng.random() >= _PRIORITY_RATE[source]:
        return None
    levels = style.URGENCY_ORDER
    if tone == "furious" and rng.random() < 0.6:
        return rng.choice(("high", "critical"))
    roll = rng.random()
    if roll < 0.55:
        return urgency
    if roll < 0.85:
        i = levels.index(urgency) + rng.choice((-1, 1))
        return levels[min(max(i, 0), len(levels) - 1)]
    return rng.choice(levels)


class _Draft:
    """One ticket being written: picks the pieces, fills them, adds noise."""

    def __init__(self, rng: random.Random, template: Template, tone: Tone, source: str, values: Vars) -> None:
        self.rng, self.template, self.tone, self.source, self.values = rng, template, tone, source, values

    def fill(self, text: str) -> str:
        return style.fill(style.choose_alternatives(text, self.rng), self.values)

    def pick(self, options: Sequence[str]) -> str:
        if not options:
            return ""
        choice = self.rng.choice(options)
        text = self.fill(choice)
        # "{product} crashes" must not start a sentence with "the web app".
        return text[:1].upper() + text[1:] if choice.startswith("{") else text

    def write(self) -> tuple[str, str, Urgency]:
        rng, t = self.rng, self.template
        length = _weighted(rng, _LENGTHS[self.source])
        urgency, stakes = t.urgency, ""
        if t.stakes and length != "short" and rng.random() < _STAKES_RATE:
            floor, sentences = style.STAKES[rng.choice(t.stakes)]
            urgency, stakes = style.raise_urgency(t.urgency, floor), self.pick(sentences)
        body = self._body(length, stakes, urgency)
        return self._subject(), body, urgency

    def _body(self, length: Length, stakes: str, urgency: Urgency) -> str:
        rng, t = self.rng, self.template
        core = self.pick(t.short if length == "short" else t.bodies)
        if not t.decorate:
            extra = [self.pick(t.details)] if length == "long" and t.details else []
            return self._noisy("\n\n".join([core, *extra]))
        opener, closer = self._tone_lines(length)
        paragraphs = [_sentences((opener, core, stakes))]
        if length == "long":
            pool = list(t.details) + list(style.CONTEXT_DETAILS[t.kind])
            picked = rng.sample(pool, k=min(len(pool), rng.choice((1, 2, 2, 3))))
            paragraphs.extend(self.fill(p) for p in picked)
        if urgency == "low" and self.tone != "furious" and length != "short" and rng.random() < 0.2:
            paragraphs.append(self.pick(style.CALM_NOTES))
        if closer:
            paragraphs.append(closer)
        if length == "short" or self.source == "chat":
            return self._noisy(_sentences(paragraphs))
        if length == "medium":
            paragraphs = [_sentences(paragraphs)]
        greeting, sign_off = self.pick(style.GREETINGS[self.tone]), self.pick(style.SIGN_OFFS)
        return self._noisy("\n\n".join(p for p in (greeting, *paragraphs, sign_off) if p))

    def _tone_lines(self, length: Length) -> tuple[str, str]:
        """Opener and closer; a request told furiously or gratefully must show it, or its label would lie."""
        rng, key = self.rng, (self.tone, self.template.kind)
        openers, closers = style.OPENERS.get(key, ()), style.CLOSERS.get(key, ())
        chance = 0.25 if length == "short" else 0.6
        opener = self.pick(openers) if openers and rng.random() < chance else ""
        closer = self.pick(closers) if closers and rng.random() < chance else ""
        must_show = self.template.kind == "request" and self.tone in ("furious", "grateful")
        if must_show and not (opener or closer):
            if rng.random() < 0.5 and openers:
                opener = self.pick(openers)
            else:
                closer = self.pick(closers)
        if self.tone == "furious" and rng.random() < 0.25:
            opener, closer = (style.shout(opener) if opener else ""), (style.shout(closer) if closer else "")
        return opener, closer

    def _subject(self) -> str:
        rng = self.rng
        if self.source == "chat" and rng.random() < 0.6:
            return ""
        if self.template.decorate and rng.random() < 0.15:
            subject = self.pick(style.GENERIC_SUBJECTS)
        else:
            subject = self.pick(self.template.subjects)
        if self.tone == "furious":
            roll = rng.random()
            if roll < 0.2:
                subject = subject.upper()
            elif roll < 0.45:
                subject = self.pick(style.FURIOUS_SUBJECT_PREFIXES) + subject
        elif rng.random() < 0.12:
            subject = subject.lower()
        return _tidy(style.add_typos(subject, rng, 0.03) if rng.random() < 0.2 else subject)

    def _noisy(self, text: str) -> str:
        rng = self.rng
        text = _tidy(text)
        roll = rng.random()
        if roll < 0.12:
            text = style.add_typos(text, rng, 0.06)
        elif roll < 0.40:
            text = style.add_typos(text, rng, 0.015)
        if rng.random() < (0.4 if self.source == "chat" else 0.05):
            text = style.chat_style(text)
        return text


def _sentences(parts: Sequence[str]) -> str:
    """Join pieces into running text, ending a piece with a full stop where it has none."""
    kept = [p for p in parts if p]
    ended = [p if p[-1] in ".!?:)" else f"{p}." for p in kept[:-1]]
    return " ".join(ended + kept[-1:])


_SPACES = re.compile(r"[ \t]{2,}")
_SPACE_BEFORE_PUNCT = re.compile(r" +([.,!?;])")


def _tidy(text: str) -> str:
    """Clean the seams left where an optional piece was chosen empty."""
    lines = (_SPACE_BEFORE_PUNCT.sub(r"\1", _SPACES.sub(" ", line)).strip() for line in text.split("\n"))
    return "\n".join(lines).strip()
