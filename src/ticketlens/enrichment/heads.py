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

A head in format 3 (``ticketlens-head/3``) also carries a calibration that follows the
deployment's traffic off the training data: ``members`` (the ensemble's size: its hidden
units are the members' side by side), ``traffic_coef`` = (a, b) and ``traffic_prior`` =
(m0, w). Its temperature is ``T = exp(a + b * m)``, where ``m`` is the mean of
log(u + 0.001) over the deployment's recent tickets (``u``: how much the members disagree on
a ticket's top label), shrunk towards a typical new domain's ``m0`` with the weight of ``w``
tickets. Members trained on the same rows agree at home and disagree on a domain they never
saw, but one ticket's disagreement is noise; a few hundred tickets' mean tells the
domain apart. (a, b) are fitted on leave-one-domain-out logits (``training/shift.py``,
docs/quality.md). Format 2 (a per-ticket temperature from the distance to kept training
embeddings) is no longer read: retrain such a head.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ticketlens.enrichment.cues import cue_features
from ticketlens.schemas import TRAFFIC_UNITS, Traffic

if TYPE_CHECKING:  # imported on first use: only heads that read the lexicon load it
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

HEAD_FORMAT = "ticketlens-head/1"
TRAFFIC_HEAD_FORMAT = "ticketlens-head/3"  # format 1 plus the traffic calibration
KNOWN_FEATURES = ("embedding", "vader", "cues")
HeadKind = str  # "intent" | "sentiment" | a custom taxonomy's name


class ClassifierHead:
    """A calibrated classifier over ticket embeddings (plus optional text features)."""

    def __init__(self, arrays: Mapping[str, np.ndarray], version: str = "unsaved") -> None:
        fmt = str(arrays["format"])
        if fmt not in (HEAD_FORMAT, TRAFFIC_HEAD_FORMAT):
            hint = " (its distance calibration was replaced: retrain it with `ticketlens train`)" if fmt.endswith(
                "/2") else ""
            raise ValueError(
                f"unsupported head format {fmt!r}{hint}; expected {HEAD_FORMAT!r} or {TRAFFIC_HEAD_FORMAT!r}")
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
        self.traffic: TrafficCalibration | None = None
        if fmt == TRAFFIC_HEAD_FORMAT:
            a, b = (float(c) for c in np.asarray(arrays["traffic_coef"], dtype=np.float64))
            m0, w = (float(c) for c in np.asarray(arrays["traffic_prior"], dtype=np.float64))
            self.traffic = TrafficCalibration(a, b, m0, w)
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
            "format": np.asarray(TRAFFIC_HEAD_FORMAT if self.traffic is not None else HEAD_FORMAT),
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
        if self.traffic is not None:
            t = self.traffic
            arrays["members"] = np.asarray(self.members)
            arrays["traffic_coef"] = np.asarray([t.a, t.b], dtype=np.float64)
            arrays["traffic_prior"] = np.asarray([t.prior_mean, t.prior_weight], dtype=np.float64)
        return arrays

    def save(self, path: str | Path) -> str:
        """Write the head; returns (and adopts) its version, the file's short sha256."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        # allow_pickle at its default, named: else the stub reads **arrays as maybe holding it
        np.savez_compressed(path, allow_pickle=True, **self.to_arrays())
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
        if not self.needs_text:
            return parts[0]
        if texts is None or len(texts) != len(parts[0]):
            raise ValueError(f"the {self.kind} head needs the texts beside the embeddings")
        for name in self.features:
            if name == "embedding":
                continue
            if cache is None or name not in cache:
                computed = text_features(name, texts)
                if cache is None:
                    parts.append(computed)
                    continue
                cache[name] = computed
            parts.append(cache[name])
        return np.concatenate(parts, axis=1)

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

    def temperature_for(self, traffic: Traffic | None = None) -> float:
        """The calibration temperature: one for all, or (format 3) the one the deployment's
        ``traffic`` calls for (None: nothing seen yet)."""
        if self.traffic is None:
            return self.temperature
        return self.traffic.temperature(traffic or Traffic())

    def score(
        self,
        embeddings: np.ndarray,
        texts: Sequence[str] | None = None,
        cache: dict[str, np.ndarray] | None = None,
        traffic: Traffic | None = None,
    ) -> Scores:
        """Calibrated probabilities, (n, n_labels), each row summing to 1, and the members'
        disagreement of each row (zeros for a single network)."""
        logits, disagreement = self._forward(self.features_for(embeddings, texts, cache), with_disagreement=True)
        return Scores(softmax(logits / self.temperature_for(traffic)), disagreement)

    def predict_proba(
        self,
        embeddings: np.ndarray,
        texts: Sequence[str] | None = None,
        cache: dict[str, np.ndarray] | None = None,
        traffic: Traffic | None = None,
    ) -> np.ndarray:
        """Calibrated probabilities, (n, n_labels); each row sums to 1."""
        logits = self.logits_of_features(self.features_for(embeddings, texts, cache))
        return softmax(logits / self.temperature_for(traffic))

    def predict(
        self, embeddings: np.ndarray, texts: Sequence[str] | None = None
    ) -> list[tuple[str, float]]:
        """(label, calibrated confidence) per row."""
        probs = self.predict_proba(embeddings, texts)
        best = probs.argmax(axis=1)
        return [(self.labels[j], float(probs[i, j])) for i, j in enumerate(best)]


@dataclass(frozen=True)
class Scores:
    probs: np.ndarray  # calibrated, (n, n_labels)
    disagreement: np.ndarray  # the members' disagreement on each row's top label, (n,)


@dataclass(frozen=True)
class TrafficCalibration:
    """T = exp(a + b * m): ``m`` the mean log(u + floor) of the deployment's recent tickets,
    shrunk towards a typical new domain's ``prior_mean`` with the weight of ``prior_weight``
    tickets, so a new deployment starts as a typical unseen domain and moves to its own."""

    a: float
    b: float
    prior_mean: float
    prior_weight: float

    def level(self, traffic: Traffic) -> float:
        seen = traffic.units / TRAFFIC_UNITS
        return (seen + self.prior_weight * self.prior_mean) / (traffic.n + self.prior_weight)

    def temperature(self, traffic: Traffic) -> float:
        return math.exp(min(max(self.a + self.b * self.level(traffic), -5.0), 5.0))


def softmax(logits: np.ndarray) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    probabilities: np.ndarray = z.astype(np.float32)
    return probabilities


@lru_cache(maxsize=1)
def _vader() -> SentimentIntensityAnalyzer:
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
