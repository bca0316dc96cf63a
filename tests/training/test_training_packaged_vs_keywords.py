"""The packaged heads, on the real encoder, clearly beat the keyword baseline on the
hand-written held-out sets (training/data/cs_eval.jsonl: 91 varied written tickets;
cs_eval_calls.jsonl: 87 transcribed call turns; both written for this project, never trained
on)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ticketlens.enrichment.heads import load_head
from ticketlens.training.data import packaged_data, read_jsonl, row_text
from ticketlens.training.keywords import keyword_predict
from ticketlens.training.metrics import expected_calibration_error, macro_f1

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=["cs_eval.jsonl", "cs_eval_calls.jsonl"])
def tickets_and_vectors(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[list[dict], list[str], np.ndarray]:
    from ticketlens.training.embed import EmbeddingCache

    rows = read_jsonl(packaged_data(request.param))
    texts = [row_text(r) for r in rows]
    cache = EmbeddingCache(Path(tmp_path_factory.mktemp("embeddings")))
    return rows, texts, cache.embed(texts)


@pytest.mark.parametrize(("kind", "floor"), [("intent", 0.70), ("sentiment", 0.80)])
def test_packaged_head_beats_keywords(
    tickets_and_vectors: tuple[list[dict], list[str], np.ndarray], kind: str, floor: float
) -> None:
    # GIVEN the hand-written tickets that carry a label for this head, embedded by the encoder
    rows, texts, vectors = tickets_and_vectors
    keep = [i for i, r in enumerate(rows) if r.get(kind)]
    truth = [rows[i][kind] for i in keep]
    sub_texts = [texts[i] for i in keep]
    head = load_head("default", kind)
    # WHEN the packaged head and the keyword baseline label them
    probs = head.predict_proba(vectors[keep], sub_texts)
    predicted = [head.labels[j] for j in probs.argmax(axis=1)]
    keywords = keyword_predict(kind, sub_texts)
    assert keywords is not None
    head_f1, keyword_f1 = macro_f1(truth, predicted), macro_f1(truth, keywords)
    # THEN the head clears an absolute bar and beats keywords by a clear margin
    assert head_f1 >= floor, f"{kind} head macro-F1 {head_f1:.3f}"
    assert head_f1 >= keyword_f1 + 0.10, f"{kind}: head {head_f1:.3f} vs keywords {keyword_f1:.3f}"
    # AND its confidences are probabilities a reader can use (not all ~1.0 on errors)
    index = np.asarray([head.labels.index(t) for t in truth])
    assert expected_calibration_error(probs, index) < 0.25
