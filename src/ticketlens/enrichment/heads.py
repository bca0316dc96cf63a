"""Classifier heads (intent, sentiment): small dense networks on the ticket embedding,
stored as ``.npz`` (no pickle) and run with numpy alone.

A head file holds:

- ``format`` ("ticketlens-head/1"), ``kind`` (intent / sentiment / a user's name)
- ``labels``: unicode array, one per output column
- ``features``: unicode array; "embedding" always, "vader" when the head also reads the
  VADER lexicon scores of the text (then ``vaderSentiment`` must be installed)
- ``feature_mean`` / ``feature_scale``: standardisation of the input features
- ``n_layers`` and ``W{i}`` / ``b{i}``: dense layers, ReLU between them
- ``temperature``: the calibration temperature (softmax(logits / T) is the calibrated
  probability)
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from ticketlens.enrichment.cues import cue_features

HEAD_FORMAT = "ticketlens-head/1"
KNOWN_FEATURES = ("embedding", "vader", "cues")
HeadKind = str  # "intent" | "sentiment" | a custom taxonomy's name


class ClassifierHead:
    """A calibrated classifier over ticket embeddings (plus optional text features)."""

    def __init__(self, arrays: Mapping[str, np.ndarray], version: str = "unsaved") -> None:
        fmt = str(arrays["format"])
        if fmt != HEAD_FORMAT:
            raise ValueError(f"unsupported head format {fmt!r} (expected {HEAD_FORMAT!r})")
        self.kind: str = str(arrays["kind"])
        self.labels: tuple[str, ...] = tuple(str(x) for x in arrays["labels"].tolist())
        self.features: tuple[str, ...] = tuple(str(x) for x in arrays["features"].tolist())
        unknown = set(self.features) - set(KNOWN_FEATURES)
        if unknown:
            raise ValueError(f"head needs unknown features {sorted(unknown)}")
        self.mean = np.asarray(arrays["feature_mean"], dtype=np.float32)
        self.scale = np.asarray(arrays["feature_scale"], dtype=np.float32)
        n_layers = int(arrays["n_layers"])
        self.layers = [
            (np.asarray(arrays[f"W{i}"], dtype=np.float32), np.asarray(arrays[f"b{i}"], dtype=np.float32))
            for i in range(n_layers)
        ]
        self.temperature = float(arrays["temperature"])
        if self.layers[-1][0].shape[1] != len(self.labels):
            raise ValueError("last layer width does not match the number of labels")
        if self.layers[0][0].shape[0] != self.mean.shape[0]:
            raise ValueError("first layer width does not match the feature width")
        self.version = version

    # -- loading / saving ------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path) -> ClassifierHead:
        raw = Path(path).read_bytes()
        version = hashlib.sha256(raw).hexdigest()[:12]
        with np.load(Path(path), allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
        return cls(arrays, version=version)

    def to_arrays(self) -> dict[str, np.ndarray]:
        arrays: dict[str, np.ndarray] = {
            "format": np.asarray(HEAD_FORMAT),
            "kind": np.asarray(self.kind),
            "labels": np.asarray(self.labels, dtype=np.str_),
            "features": np.asarray(self.features, dtype=np.str_),
            "feature_mean": self.mean,
            "feature_scale": self.scale,
            "n_layers": np.asarray(len(self.layers)),
            "temperature": np.asarray(self.temperature, dtype=np.float64),
        }
        for i, (weight, bias) in enumerate(self.layers):
            arrays[f"W{i}"], arrays[f"b{i}"] = weight, bias
        return arrays

    def save(self, path: str | Path) -> str:
        """Write the head; returns (and adopts) its version, the file's short sha256."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, **self.to_arrays())  # type: ignore[arg-type]
        self.version = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        return self.version

    # -- inference ---------------------------------------------------------------------------

    @property
    def needs_text(self) -> bool:
        return any(f != "embedding" for f in self.features)

    def features_for(self, embeddings: np.ndarray, texts: Sequence[str] | None) -> np.ndarray:
        parts = [np.asarray(embeddings, dtype=np.float32)]
        if self.needs_text and (texts is None or len(texts) != len(parts[0])):
            raise ValueError(f"the {self.kind} head needs the texts beside the embeddings")
        parts += [text_features(name, texts) for name in self.features if name != "embedding"]  # type: ignore[arg-type]
        return np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]

    def logits(self, embeddings: np.ndarray, texts: Sequence[str] | None = None) -> np.ndarray:
        """Uncalibrated logits, (n, n_labels)."""
        return self.logits_of_features(self.features_for(embeddings, texts))

    def logits_of_features(self, features: np.ndarray) -> np.ndarray:
        """Uncalibrated logits of already-built features (training reuses its feature matrix)."""
        x = (features - self.mean) / self.scale
        for i, (weight, bias) in enumerate(self.layers):
            x = x @ weight + bias
            if i < len(self.layers) - 1:
                np.maximum(x, 0.0, out=x)
        return x

    def predict_proba(self, embeddings: np.ndarray, texts: Sequence[str] | None = None) -> np.ndarray:
        """Calibrated probabilities, (n, n_labels); each row sums to 1."""
        return softmax(self.logits(embeddings, texts) / self.temperature)

    def predict(
        self, embeddings: np.ndarray, texts: Sequence[str] | None = None
    ) -> list[tuple[str, float]]:
        """(label, calibrated confidence) per row."""
        probs = self.predict_proba(embeddings, texts)
        best = probs.argmax(axis=1)
        return [(self.labels[j], float(probs[i, j])) for i, j in enumerate(best)]


def softmax(logits: np.ndarray) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z.astype(np.float32)


@lru_cache(maxsize=1)
def _vader():  # type: ignore[no-untyped-def]
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


VADER_MAX_CHARS = 2000  # the scores of a ticket's opening; bounds the cost of huge bodies


def vader_features(texts: Sequence[str]) -> np.ndarray:
    """VADER lexicon scores (neg, neu, pos, compound) of each text's first 2,000 characters,
    (n, 4) float32."""
    analyzer = _vader()
    rows = []
    for text in texts:
        s = analyzer.polarity_scores((text or "")[:VADER_MAX_CHARS])
        rows.append((s["neg"], s["neu"], s["pos"], s["compound"]))
    return np.asarray(rows, dtype=np.float32).reshape(len(texts), 4)


def text_features(name: str, texts: Sequence[str]) -> np.ndarray:
    """The features a head reads from the text itself, besides the embedding."""
    if name == "vader":
        return vader_features(texts)
    if name == "cues":
        return cue_features(texts)
    raise ValueError(f"unknown text feature {name!r}")


def packaged_head_path(kind: HeadKind) -> Path:
    return Path(str(resources.files("ticketlens") / "heads" / f"{kind}.npz"))


def load_head(name_or_path: str | Path, kind: HeadKind) -> ClassifierHead:
    """``"default"`` -> the head shipped in the package for ``kind``; else a path to a .npz."""
    path = packaged_head_path(kind) if str(name_or_path) == "default" else Path(name_or_path)
    if not path.is_file():
        raise FileNotFoundError(f"no {kind} head at {path}")
    return _load_cached(str(path.resolve()), path.stat().st_mtime_ns)


@lru_cache(maxsize=8)
def _load_cached(path: str, _mtime: int) -> ClassifierHead:
    return ClassifierHead.load(path)
