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

A head in format 2 also carries a calibration that follows the input off the training data
(``ticketlens-head/2``): ``members`` (the ensemble's size: its hidden units are the members'
side by side), ``prototypes`` (float16 rows of training embeddings), ``shift_k`` and
``shift_coef`` = (a, b, c). Its temperature is per ticket, ``T = exp(a + b * d + c * u)``:
``d`` is 1 minus the mean cosine of the ticket's embedding to its ``shift_k`` nearest
prototypes, ``u`` how much the ensemble's members disagree on the top label. The further a
ticket is from what the head was trained on, the flatter its probabilities. (a, b, c) are
fitted on leave-one-domain-out logits (``training/shift.py``, docs/quality.md).
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
SHIFT_HEAD_FORMAT = "ticketlens-head/2"  # format 1 plus the shift calibration
KNOWN_FEATURES = ("embedding", "vader", "cues")
HeadKind = str  # "intent" | "sentiment" | a custom taxonomy's name


class ClassifierHead:
    """A calibrated classifier over ticket embeddings (plus optional text features)."""

    def __init__(self, arrays: Mapping[str, np.ndarray], version: str = "unsaved") -> None:
        fmt = str(arrays["format"])
        if fmt not in (HEAD_FORMAT, SHIFT_HEAD_FORMAT):
            raise ValueError(f"unsupported head format {fmt!r} (expected {HEAD_FORMAT!r} or {SHIFT_HEAD_FORMAT!r})")
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
        self.members = int(arrays["members"]) if "members" in arrays else 1
        self.shift: ShiftCalibration | None = None
        if fmt == SHIFT_HEAD_FORMAT:
            coef = np.asarray(arrays["shift_coef"], dtype=np.float64)
            self.shift = ShiftCalibration(
                np.asarray(arrays["prototypes"]), int(arrays["shift_k"]), tuple(coef.tolist())
            )
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
            "format": np.asarray(SHIFT_HEAD_FORMAT if self.shift is not None else HEAD_FORMAT),
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
        if self.shift is not None:
            arrays["members"] = np.asarray(self.members)
            arrays["prototypes"] = self.shift.prototypes
            arrays["shift_k"] = np.asarray(self.shift.k)
            arrays["shift_coef"] = np.asarray(self.shift.coef, dtype=np.float64)
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

    def features_for(
        self, embeddings: np.ndarray, texts: Sequence[str] | None, cache: dict[str, np.ndarray] | None = None
    ) -> np.ndarray:
        """The head's input: the embedding, then each text feature it reads. ``cache`` holds
        text features already computed for these texts by another head (the enricher shares
        one per batch), so the cues are not read twice."""
        parts = [np.asarray(embeddings, dtype=np.float32)]
        if self.needs_text and (texts is None or len(texts) != len(parts[0])):
            raise ValueError(f"the {self.kind} head needs the texts beside the embeddings")
        for name in self.features:
            if name == "embedding":
                continue
            if cache is None or name not in cache:
                computed = text_features(name, texts)  # type: ignore[arg-type]
                if cache is None:
                    parts.append(computed)
                    continue
                cache[name] = computed
            parts.append(cache[name])
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

    def disagreement(self, features: np.ndarray) -> np.ndarray:
        """How much the ensemble's members disagree, (n,): the standard deviation over members
        of each member's probability for the ensemble's top label (0 for a single network)."""
        return self._forward(features, with_disagreement=True)[1]

    def _forward(self, features: np.ndarray, with_disagreement: bool) -> tuple[np.ndarray, np.ndarray]:
        """(mean logits, members' disagreement) in one pass over the hidden layer.

        The merged network keeps the members' hidden units side by side and their output
        weights divided by the member count, so member k's logits are m * h_k @ W1_k + b1."""
        if not with_disagreement or self.members < 2 or len(self.layers) != 2:
            return self.logits_of_features(features), np.zeros(len(features), dtype=np.float64)
        (w0, b0), (w1, b1) = self.layers
        hidden = np.maximum(((features - self.mean) / self.scale) @ w0 + b0, 0.0)
        logits = hidden @ w1 + b1
        width = w0.shape[1] // self.members
        member_logits = np.stack([
            self.members * hidden[:, k * width : (k + 1) * width] @ w1[k * width : (k + 1) * width] + b1
            for k in range(self.members)
        ])
        top = logits.argmax(axis=1)
        probs = np.stack([softmax(m) for m in member_logits])[:, np.arange(len(top)), top]
        return logits, probs.astype(np.float64).std(axis=0)

    def temperatures(self, embeddings: np.ndarray, features: np.ndarray | None = None) -> np.ndarray:
        """The calibration temperature of each row, (n, 1): one for all, or per ticket by how
        far it is from the training data (format 2; needs the head's input ``features``)."""
        n = len(embeddings)
        if self.shift is None:
            return np.full((n, 1), self.temperature, dtype=np.float64)
        if features is None:
            raise ValueError(f"the {self.kind} head's calibration needs its input features")
        return self.shift.temperatures(np.asarray(embeddings, dtype=np.float32), self.disagreement(features))[:, None]

    def predict_proba(
        self, embeddings: np.ndarray, texts: Sequence[str] | None = None, cache: dict[str, np.ndarray] | None = None
    ) -> np.ndarray:
        """Calibrated probabilities, (n, n_labels); each row sums to 1."""
        features = self.features_for(embeddings, texts, cache)
        logits, disagreement = self._forward(features, with_disagreement=self.shift is not None)
        if self.shift is None:
            return softmax(logits / self.temperature)
        temperatures = self.shift.temperatures(np.asarray(embeddings, dtype=np.float32), disagreement)
        return softmax(logits / temperatures[:, None])

    def predict(
        self, embeddings: np.ndarray, texts: Sequence[str] | None = None
    ) -> list[tuple[str, float]]:
        """(label, calibrated confidence) per row."""
        probs = self.predict_proba(embeddings, texts)
        best = probs.argmax(axis=1)
        return [(self.labels[j], float(probs[i, j])) for i, j in enumerate(best)]


class ShiftCalibration:
    """A temperature that grows as a ticket moves away from the training data:
    exp(a + b * d + c * u), d = 1 - mean cosine to the ``k`` nearest prototypes (L2-normalised
    training embeddings), u = the ensemble members' disagreement."""

    def __init__(self, prototypes: np.ndarray, k: int, coef: Sequence[float]) -> None:
        self.prototypes = np.asarray(prototypes, dtype=np.float16)
        self._matrix = self.prototypes.astype(np.float32).T  # (384, m), ready for the product
        self.k = int(k)
        self.coef = tuple(float(c) for c in coef)
        if len(self.coef) != 3:
            raise ValueError("shift_coef must hold (a, b, c)")

    def distances(self, embeddings: np.ndarray) -> np.ndarray:
        """1 - mean cosine to the k nearest prototypes, (n,)."""
        return shift_distance(embeddings, self._matrix, self.k)

    def temperatures(self, embeddings: np.ndarray, disagreement: np.ndarray) -> np.ndarray:
        a, b, c = self.coef
        return np.exp(a + b * self.distances(embeddings) + c * np.asarray(disagreement, dtype=np.float64))


def shift_distance(embeddings: np.ndarray, prototype_matrix: np.ndarray, k: int, chunk: int = 2048) -> np.ndarray:
    """1 - the mean of the ``k`` largest cosines of each embedding with the columns of
    ``prototype_matrix`` (384, m); both sides L2-normalised. Chunked: memory stays flat."""
    x = np.asarray(embeddings, dtype=np.float32)
    out = np.empty(len(x), dtype=np.float64)
    k = max(1, min(k, prototype_matrix.shape[1]))
    for start in range(0, len(x), chunk):
        sims = x[start : start + chunk] @ prototype_matrix
        top = np.partition(sims, sims.shape[1] - k, axis=1)[:, -k:]
        out[start : start + chunk] = 1.0 - top.astype(np.float64).mean(axis=1)
    return out


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
