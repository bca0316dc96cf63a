"""The language field: py3langid over the support languages, and the discount it puts on the
English-only heads."""

from __future__ import annotations

import numpy as np
import pytest

from ticketlens.enrichment.language import LANGUAGES, UNDETERMINED, LanguageDetector, discount


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector()


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Bonjour, je n'arrive pas à me connecter à mon compte depuis hier.", "fr"),
        ("Hallo, meine Rechnung ist doppelt abgebucht worden.", "de"),
        ("Hola, no puedo iniciar sesión en la aplicación.", "es"),
        ("Ciao, il mio ordine non è mai arrivato.", "it"),
        ("How do I verify the top-up?", "en"),
        ("how do i get a pin for my card", "en"),
    ],
)
def test_support_messages_get_their_language(detector: LanguageDetector, text: str, code: str) -> None:
    # GIVEN a short support message
    # WHEN its language is detected
    (guess,) = detector.detect([text])
    # THEN the ISO 639-1 code is right, with a probability, and P(English) agrees with it
    assert guess.code == code
    assert 0.0 < guess.confidence <= 1.0
    assert (guess.english > 0.5) == (code == "en")


def test_short_english_queries_are_not_taken_for_creoles(detector: LanguageDetector) -> None:
    # GIVEN queries py3langid's full model calls Nigerian Pidgin (pcm)
    texts = ["how do i find top up for cash deposit", "How do I get money from friends?"]
    # WHEN detected over the support languages only
    guesses = detector.detect(texts)
    # THEN they are English, and no code outside the list is ever returned
    assert [g.code for g in guesses] == ["en", "en"]
    assert all(g.code in LANGUAGES for g in guesses)


def test_a_text_without_letters_is_undetermined_and_not_discounted(detector: LanguageDetector) -> None:
    # GIVEN tickets with no letters at all
    guesses = detector.detect(["12345 !!!", ""])
    # THEN the code is "und" with confidence 0, and the heads keep their own confidence
    assert [g.code for g in guesses] == [UNDETERMINED, UNDETERMINED]
    assert all(g.confidence == 0.0 and g.english == 1.0 for g in guesses)


def test_discount_mixes_with_uniform_by_the_probability_of_another_language() -> None:
    # GIVEN a confident head output for three tickets: English, surely French, half and half
    probs = np.array([[0.9, 0.05, 0.05]] * 3, dtype=np.float32)
    # WHEN discounted by P(English)
    out = discount(probs, [1.0, 0.0, 0.5])
    # THEN English keeps it, French gets the uniform distribution, the mix is in between
    np.testing.assert_allclose(out[0], probs[0], atol=1e-6)
    np.testing.assert_allclose(out[1], [1 / 3] * 3, atol=1e-6)
    np.testing.assert_allclose(out[2], 0.5 * probs[2] + 0.5 / 3, atol=1e-6)
    # AND every row is still a distribution with the same top label
    np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-6)
    assert (out.argmax(axis=1) == 0).all()
