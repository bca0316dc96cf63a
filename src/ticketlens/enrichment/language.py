"""The ticket's language (ISO 639-1 code and a probability), and what it means for the
English-only heads.

The detector is py3langid (BSD-3-Clause code and model; a naive Bayes model over byte
n-grams that ships inside the PyPI package, so nothing is downloaded). It is restricted to
:data:`LANGUAGES`, the languages support desks commonly receive: with its full 139 classes,
short English queries ("how do i get a pin for my card") came out as Nigerian Pidgin, and
Google's CLD3, tried first, called 5 % of banking77's English queries another language with
near-certain probability (docs/quality.md, "Language").

The intent and sentiment heads read an English embedding model and were trained on English
only, so their confidence holds only as far as the text is English: :func:`discount` mixes a
head's probabilities with the uniform distribution by the probability that the text is not
English. A ticket the detector is sure is French gets no confident English label.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata

import numpy as np

# EU official languages, the other languages with the most speakers in Europe, and the
# world's most spoken ones (ISO 639-1). Order does not matter.
LANGUAGES: tuple[str, ...] = (
    "en", "de", "fr", "es", "it", "pt", "nl", "pl", "sv", "da", "fi", "no", "cs", "sk", "hu",
    "ro", "bg", "el", "hr", "sl", "sr", "et", "lv", "lt", "ga", "mt", "ru", "uk", "tr", "ar",
    "he", "fa", "hi", "bn", "ur", "zh", "ja", "ko", "vi", "th", "id", "ms", "tl", "sw", "ca",
    "eu", "gl", "cy", "is", "af",
)  # fmt: skip
UNDETERMINED = "und"  # ISO 639-2 "undetermined": a text with no letters at all
MAX_CHARS = 2000  # the language of a ticket's opening; bounds the cost of huge bodies


@dataclass(frozen=True)
class Language:
    """The detected language: ``code`` (ISO 639-1, or "und"), ``confidence`` (the
    probability of ``code``) and ``english`` (the probability that the text is English)."""

    code: str
    confidence: float
    english: float


def detector_version() -> str:
    """Names the detector and its model in ``model_version``."""
    try:
        return f"py3langid-{metadata.version('py3langid')}"
    except metadata.PackageNotFoundError:
        return "py3langid-unknown"


class LanguageDetector:
    """py3langid restricted to :data:`LANGUAGES`, with probabilities over them."""

    def __init__(self, languages: Sequence[str] = LANGUAGES) -> None:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        identifier.set_languages(list(languages))
        self._identifier = identifier
        self.version = detector_version()

    def detect(self, texts: Sequence[str]) -> list[Language]:
        """One :class:`Language` per text, in order."""
        return [self._one(text) for text in texts]

    def _one(self, text: str) -> Language:
        head = (text or "")[:MAX_CHARS]
        if not any(ch.isalpha() for ch in head):
            return Language(UNDETERMINED, 0.0, 1.0)  # no language to doubt: the heads keep their own confidence
        ranked = self._identifier.rank(head)
        code, confidence = ranked[0]
        english = next((p for lang, p in ranked if lang == "en"), 0.0)
        return Language(str(code), round(float(confidence), 4), float(english))


def discount(probabilities: np.ndarray, english: Sequence[float]) -> np.ndarray:
    """A head's probabilities, trusted only as far as each text is English: each row mixed
    with the uniform distribution by the probability that its text is not English
    (``p * P(en) + (1 - P(en)) / K``). The top label never changes; its confidence does."""
    probs = np.asarray(probabilities, dtype=np.float64)
    weight = np.clip(np.asarray(english, dtype=np.float64), 0.0, 1.0)[:, None]
    mixed: np.ndarray = (weight * probs + (1.0 - weight) / probs.shape[1]).astype(np.float32)
    return mixed


_shared: LanguageDetector | None = None
_lock = threading.Lock()


def get_detector() -> LanguageDetector:
    """The process-wide detector (its model takes a few seconds to load, once)."""
    global _shared
    with _lock:
        if _shared is None:
            _shared = LanguageDetector()
        return _shared
