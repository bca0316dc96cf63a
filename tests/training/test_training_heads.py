"""ClassifierHead: safe .npz round trip, calibrated probabilities, packaged heads."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import numpy as np
import pytest

from ticketlens.enrichment.heads import ClassifierHead, load_head, packaged_head_path
from ticketlens.training.fit import build_head

TAXONOMY = {
    "login_issue", "account_issue", "payment_issue", "billing_issue", "bug_report",
    "feature_request", "security_concern", "general_inquiry", "other",
}


def _random_head(
    rng: np.random.Generator, features: tuple[str, ...] = ("embedding",), hidden: int = 8
) -> ClassifierHead:
    width = 384 + (4 if "vader" in features else 0)
    params = [
        rng.normal(size=(width, hidden)).astype(np.float32), rng.normal(size=hidden).astype(np.float32),
        rng.normal(size=(hidden, 3)).astype(np.float32), rng.normal(size=3).astype(np.float32),
    ]
    mean, scale = np.zeros(width, np.float32), np.ones(width, np.float32)
    return build_head("toy", ("a", "b", "c"), features, mean, scale, params, temperature=1.7)


def _unit_rows(rng: np.random.Generator, n: int) -> np.ndarray:
    x = rng.normal(size=(n, 384)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_save_load_round_trip_is_exact_and_pickle_free(tmp_path: Path) -> None:
    # GIVEN a head with random weights, saved to disk
    rng = np.random.default_rng(1)
    head = _random_head(rng)
    path = tmp_path / "toy.npz"
    version = head.save(path)
    # WHEN it is loaded back (allow_pickle=False inside)
    loaded = ClassifierHead.load(path)
    x = _unit_rows(rng, 5)
    # THEN labels, temperature and outputs are identical, and the version is the file's sha256
    assert loaded.labels == ("a", "b", "c") and loaded.kind == "toy"
    assert loaded.temperature == pytest.approx(1.7)
    np.testing.assert_array_equal(loaded.predict_proba(x), head.predict_proba(x))
    assert version == loaded.version == hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    # AND no array in the file is an object array (nothing pickled)
    with np.load(path, allow_pickle=False) as data:
        assert all(data[key].dtype != object for key in data.files)
        assert data["labels"].dtype.kind == "U"
    with zipfile.ZipFile(path) as archive:
        assert all(name.endswith(".npy") for name in archive.namelist())


def test_probabilities_are_calibrated_softmax_that_sum_to_one() -> None:
    # GIVEN a head with temperature 1.7
    rng = np.random.default_rng(2)
    head = _random_head(rng)
    x = _unit_rows(rng, 7)
    # WHEN probabilities are taken
    probs = head.predict_proba(x)
    # THEN every row sums to 1 and equals softmax(logits / T)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-6)
    z = head.logits(x) / 1.7
    expected = np.exp(z - z.max(axis=1, keepdims=True))
    np.testing.assert_allclose(probs, expected / expected.sum(axis=1, keepdims=True), rtol=1e-5)
    assert [label for label, _ in head.predict(x)] == [head.labels[j] for j in probs.argmax(axis=1)]


def test_text_feature_head_demands_texts() -> None:
    # GIVEN a head that reads VADER scores beside the embedding
    rng = np.random.default_rng(3)
    head = _random_head(rng, features=("embedding", "vader"))
    x = _unit_rows(rng, 2)
    # WHEN it is called without the texts THEN it refuses; with them it answers
    assert head.needs_text
    with pytest.raises(ValueError, match="needs the texts"):
        head.predict_proba(x)
    probs = head.predict_proba(x, ["thank you so much!", "this is terrible"])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-6)


def test_unknown_format_is_refused(tmp_path: Path) -> None:
    # GIVEN a file that is an npz but not a head
    path = tmp_path / "bad.npz"
    np.savez(path, format=np.asarray("something-else/9"))
    # THEN loading it fails with a clear message
    with pytest.raises(ValueError, match="unsupported head format"):
        ClassifierHead.load(path)


@pytest.mark.parametrize(("kind", "labels"), [("intent", TAXONOMY), ("sentiment", {"NEGATIVE", "NEUTRAL", "POSITIVE"})])
def test_packaged_heads_load_by_default(kind: str, labels: set[str]) -> None:
    # GIVEN the heads shipped in the package, with metrics from the run that made them
    path = packaged_head_path(kind)
    metrics = path.with_name(f"{kind}.metrics.json")
    # WHEN the default one is loaded
    head = load_head("default", kind)
    # THEN it has the right labels, a version, and a sane calibrated output
    assert set(head.labels) == labels and head.kind == kind
    assert len(head.version) == 12 and metrics.is_file()
    assert 0.05 < head.temperature < 20
    rng = np.random.default_rng(4)
    x = _unit_rows(rng, 3)
    probs = head.predict_proba(x, ["hello", "my card was declined", "thanks a lot!"])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_load_head_resolves_a_path(tmp_path: Path) -> None:
    # GIVEN a head saved at a custom path
    head = _random_head(np.random.default_rng(5))
    path = tmp_path / "custom.npz"
    head.save(path)
    # WHEN settings point at it THEN load_head returns it; a missing path fails clearly
    assert load_head(str(path), "intent").labels == ("a", "b", "c")
    with pytest.raises(FileNotFoundError):
        load_head(str(tmp_path / "missing.npz"), "intent")
