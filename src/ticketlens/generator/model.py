"""What a ticket template is, and the rules that turn a template plus a tone into ground truth.

Template text uses two markers: ``{name}`` is a vocabulary placeholder (see vocabulary.py)
and ``[one|other|]`` picks one alternative (an empty one means "leave it out"). Each template
names its intent, its base urgency, the kind of message it is, and which stakes may be added
to it; the truth then follows from what the final text says, not from its wording:

- urgency is the larger of the template's base and any stakes sentence added (an outage
  sentence makes it critical, a deadline high); a furious tone does not raise it.
- sentiment follows the support convention: a complaint is NEGATIVE however politely it is
  put, a plain request is NEUTRAL unless told furiously (NEGATIVE) or wrapped in praise
  (POSITIVE), thanks and praise are POSITIVE, noise (spam, tests, stray mail) is NEUTRAL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ticketlens.schemas import DEFAULT_INTENTS, Sentiment, Urgency

Tone = Literal["furious", "polite", "neutral", "grateful"]
Kind = Literal["complaint", "request", "praise", "noise"]
# Sentences that raise urgency, by how far: see style.STAKES.
Stakes = Literal["soon", "deadline", "blocked", "team", "revenue"]

TONES: tuple[Tone, ...] = ("furious", "polite", "neutral", "grateful")
INTENTS: tuple[str, ...] = DEFAULT_INTENTS


@dataclass(frozen=True)
class Template:
    name: str
    intent: str
    kind: Kind
    urgency: Urgency
    subjects: tuple[str, ...]
    bodies: tuple[str, ...]
    # One-line versions for chat and terse mail; they must carry the same truth as the bodies.
    short: tuple[str, ...]
    # Extra paragraphs for long tickets.
    details: tuple[str, ...] = ()
    stakes: tuple[Stakes, ...] = ()
    tones: tuple[Tone, ...] = TONES
    # False for mail that is not written to support (spam, misdirected mail, auto-replies):
    # no support-style greeting, opener, closer or sign-off is added around it.
    decorate: bool = True
    weight: float = 1.0

    def __post_init__(self) -> None:
        if self.intent not in INTENTS:
            raise ValueError(f"{self.name}: unknown intent {self.intent!r}")
        if not (self.subjects and self.bodies and self.short):
            raise ValueError(f"{self.name}: needs subjects, bodies and short versions")
        if self.kind in ("praise", "noise") and "furious" in self.tones:
            raise ValueError(f"{self.name}: a {self.kind} template cannot be furious")


def sentiment_of(kind: Kind, tone: Tone) -> Sentiment:
    """The ground-truth sentiment of a message of this kind told in this tone."""
    if kind == "complaint":
        return "NEGATIVE"
    if kind == "praise":
        return "POSITIVE"
    if kind == "noise":
        return "NEUTRAL"
    by_tone: dict[str, Sentiment] = {"furious": "NEGATIVE", "grateful": "POSITIVE"}
    return by_tone.get(tone, "NEUTRAL")
