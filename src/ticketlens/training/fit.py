"""Fit a head: a softmax regression or one-hidden-layer MLP in numpy (Adam, dropout,
weighted cross-entropy, early stopping), then a calibration temperature on a held-out split.

numpy alone, so ``ticketlens train`` needs nothing beyond the runtime stack (plus the
encoder) and is deterministic for a seed.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from ticketlens.enrichment.heads import HEAD_FORMAT, ClassifierHead, softmax

MIN_STEPS_PER_EPOCH = 50
# What each ensemble member trains on. "same": every member the same rows and weights (they
# differ by seed only). "drop": the sources are dealt into one group per member and member k
# trains with group k down-weighted to SOURCE_DROP_WEIGHT (so every label stays seen).
# "dirichlet": member k multiplies each source's weights by a Gamma(SOURCE_DIRICHLET_ALPHA)
# draw (a Bayesian bootstrap over sources). The views make the members disagree where a
# prediction hinges on one source's data: a domain signal for the shift calibration.
SourceViews = Literal["same", "drop", "dirichlet"]
SOURCE_DROP_WEIGHT = 0.05
SOURCE_DIRICHLET_ALPHA = 1.0


@dataclass(frozen=True)
class FitConfig:
    hidden: int = 256  # 0 = softmax (logistic) regression
    epochs: int = 40
    batch_size: int = 128
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4  # decoupled (AdamW)
    dropout: float = 0.2  # on the hidden layer
    input_dropout: float = 0.1
    label_smoothing: float = 0.0
    patience: int = 6  # epochs without a better early-stopping loss
    seed: int = 0
    ensemble: int = 1  # networks fitted with seeds seed..seed+n-1, merged into one (mean logits)
    source_views: SourceViews = "same"  # each member's view of the training sources (above)


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    log_probs: np.ndarray = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return log_probs


# What the backward pass needs of a forward pass: each layer's input, each hidden layer's
# dropout mask (None: no dropout).
_Cache = tuple[list[np.ndarray], list[np.ndarray | None]]


def weighted_nll(logits: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> float:
    logp = _log_softmax(logits.astype(np.float64))
    losses = -logp[np.arange(len(y)), y]
    if w is None:
        return float(losses.mean())
    return float((losses * w).sum() / w.sum())


class _Net:
    def __init__(self, n_in: int, n_out: int, hidden: int, rng: np.random.Generator) -> None:
        dims = [n_in, hidden, n_out] if hidden else [n_in, n_out]
        self.params: list[np.ndarray] = []
        for a, b in itertools.pairwise(dims):
            bound = math.sqrt(6.0 / (a + b)) if b != n_out else math.sqrt(1.0 / a)
            self.params += [rng.uniform(-bound, bound, size=(a, b)).astype(np.float32), np.zeros(b, np.float32)]

    @property
    def n_layers(self) -> int:
        return len(self.params) // 2

    def forward(
        self, x: np.ndarray, train: bool, cfg: FitConfig, rng: np.random.Generator
    ) -> tuple[np.ndarray, _Cache]:
        inputs: list[np.ndarray] = []
        masks: list[np.ndarray | None] = []
        if train and cfg.input_dropout > 0:
            mask = (rng.random(x.shape) >= cfg.input_dropout).astype(np.float32) / (1 - cfg.input_dropout)
            x = x * mask
        for i in range(self.n_layers):
            w, b = self.params[2 * i], self.params[2 * i + 1]
            inputs.append(x)
            x = x @ w + b
            if i < self.n_layers - 1:
                x = np.maximum(x, 0.0)
                if train and cfg.dropout > 0:
                    mask = (rng.random(x.shape) >= cfg.dropout).astype(np.float32) / (1 - cfg.dropout)
                    x = x * mask
                    masks.append(mask)
                else:
                    masks.append(None)
        return x, (inputs, masks)

    def backward(self, grad: np.ndarray, cache: _Cache) -> list[np.ndarray]:
        grads: list[np.ndarray] = [np.empty(0)] * len(self.params)
        inputs, masks = cache
        for i in reversed(range(self.n_layers)):
            x_in = inputs[i]
            grads[2 * i] = x_in.T @ grad
            grads[2 * i + 1] = grad.sum(axis=0)
            if i > 0:
                grad = grad @ self.params[2 * i].T
                mask = masks[i - 1]
                if mask is not None:
                    grad = grad * mask
                grad = grad * (inputs[i] > 0)  # ReLU of the previous layer's output
        return grads

    def logits(self, x: np.ndarray) -> np.ndarray:
        for i in range(self.n_layers):
            x = x @ self.params[2 * i] + self.params[2 * i + 1]
            if i < self.n_layers - 1:
                x = np.maximum(x, 0.0)
        return x


def fit_network(
    x: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    cfg: FitConfig,
    sample_weight: np.ndarray | None = None,
    x_stop: np.ndarray | None = None,
    y_stop: np.ndarray | None = None,
    w_stop: np.ndarray | None = None,
) -> tuple[list[np.ndarray], dict[str, float]]:
    """Train on standardised ``x``; early-stop on (x_stop, y_stop) weighted NLL when given."""
    rng = np.random.default_rng(cfg.seed)
    net = _Net(x.shape[1], n_classes, cfg.hidden, rng)
    w = np.ones(len(y), np.float32) if sample_weight is None else sample_weight.astype(np.float32)
    w = w / w.mean()
    m = [np.zeros_like(p) for p in net.params]
    v = [np.zeros_like(p) for p in net.params]
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    step = 0
    best = (float("inf"), [p.copy() for p in net.params], 0)
    onehot_eye = np.eye(n_classes, dtype=np.float32)
    smooth = cfg.label_smoothing
    epochs_run = 0
    # a small data set still gets enough optimiser steps per "epoch" (early-stopping check)
    batch_size = min(cfg.batch_size, len(y))
    passes = max(1, math.ceil(MIN_STEPS_PER_EPOCH * batch_size / len(y)))
    for epoch in range(cfg.epochs):
        epochs_run = epoch + 1
        order = np.concatenate([rng.permutation(len(y)) for _ in range(passes)])
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            xb, yb, wb = x[idx], y[idx], w[idx]
            out, cache = net.forward(xb, True, cfg, rng)
            target = onehot_eye[yb] * (1 - smooth) + smooth / n_classes
            grad = (softmax(out) - target) * (wb / wb.sum())[:, None]
            grads = net.backward(grad.astype(np.float32), cache)
            step += 1
            lr = cfg.learning_rate
            for k, (p, g) in enumerate(zip(net.params, grads, strict=True)):
                m[k] = beta1 * m[k] + (1 - beta1) * g
                v[k] = beta2 * v[k] + (1 - beta2) * g * g
                m_hat = m[k] / (1 - beta1**step)
                v_hat = v[k] / (1 - beta2**step)
                if p.ndim == 2 and cfg.weight_decay:
                    p *= 1 - lr * cfg.weight_decay
                p -= (lr * m_hat / (np.sqrt(v_hat) + eps)).astype(np.float32)
        if x_stop is not None and y_stop is not None:
            loss = weighted_nll(net.logits(x_stop), y_stop, w_stop)
            if loss < best[0] - 1e-4:
                best = (loss, [p.copy() for p in net.params], epoch + 1)
            elif epoch + 1 - best[2] >= cfg.patience:
                break
    if x_stop is not None and best[2] > 0:
        net.params = best[1]
    return net.params, {"epochs_run": epochs_run, "best_epoch": best[2] or epochs_run}


def source_view_weights(sources: np.ndarray, views: SourceViews, members: int, seed: int) -> list[np.ndarray]:
    """Per member, a weight per row multiplying its sample weight: member k's view of the
    training ``sources`` (all ones for "same"; reproducible for a seed)."""
    n = len(sources)
    if views == "same" or members < 2:
        return [np.ones(n, np.float32) for _ in range(members)]
    names, index = np.unique(sources, return_inverse=True)
    rng = np.random.default_rng([seed, 20_611])
    out = []
    if views == "drop":
        group = np.empty(len(names), dtype=int)
        group[rng.permutation(len(names))] = np.arange(len(names)) % members
        for k in range(members):
            out.append(np.where(group[index] == k, SOURCE_DROP_WEIGHT, 1.0).astype(np.float32))
    elif views == "dirichlet":
        for _ in range(members):
            g = rng.gamma(SOURCE_DIRICHLET_ALPHA, 1.0, size=len(names))
            out.append((g / g.mean())[index].astype(np.float32))
    else:
        raise ValueError(f"unknown source views {views!r}")
    return out


def fit_ensemble(
    x: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    cfg: FitConfig,
    sample_weight: np.ndarray | None = None,
    x_stop: np.ndarray | None = None,
    y_stop: np.ndarray | None = None,
    sources: np.ndarray | None = None,
) -> tuple[list[np.ndarray], dict[str, Any]]:
    """``cfg.ensemble`` networks from different seeds (and, with ``cfg.source_views``, different
    views of the training ``sources``), merged exactly into one network whose logits are their
    mean: hidden layers side by side, output weights stacked and divided."""
    n_members = max(cfg.ensemble, 1)
    if cfg.source_views != "same" and sources is None:
        raise ValueError(f"source views {cfg.source_views!r} need the source of every training row")
    base = np.ones(len(y), np.float32) if sample_weight is None else sample_weight.astype(np.float32)
    views = (
        source_view_weights(sources, cfg.source_views, n_members, cfg.seed)
        if sources is not None and cfg.source_views != "same"
        else None
    )
    members, infos = [], []
    for k in range(n_members):
        weight = sample_weight if views is None else base * views[k]
        params, info = fit_network(x, y, n_classes, replace(cfg, seed=cfg.seed + k), weight, x_stop, y_stop)
        members.append(params)
        infos.append(info)
    n = len(members)
    if n == 1:
        return members[0], dict(infos[0])
    if len(members[0]) == 2:  # softmax regression: the mean of linear maps is linear
        merged = [np.asarray(sum(m[0] for m in members)) / n, np.asarray(sum(m[1] for m in members)) / n]
    else:
        merged = [
            np.concatenate([m[0] for m in members], axis=1),
            np.concatenate([m[1] for m in members]),
            np.concatenate([m[2] for m in members], axis=0) / n,
            np.asarray(sum(m[3] for m in members)) / n,
        ]
    return [p.astype(np.float32) for p in merged], {
        "members": n,
        "best_epochs": [i["best_epoch"] for i in infos],
    }


def fit_temperature(logits: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> float:
    """The temperature T minimising the (weighted) NLL of softmax(logits / T)."""
    grid = np.exp(np.linspace(np.log(0.05), np.log(20.0), 241))
    losses = [weighted_nll(logits / t, y, w) for t in grid]
    k = int(np.argmin(losses))
    lo, hi = grid[max(k - 1, 0)], grid[min(k + 1, len(grid) - 1)]
    for _ in range(40):  # golden-section refinement in the bracketing interval
        a = hi - (hi - lo) / 1.618034
        b = lo + (hi - lo) / 1.618034
        if weighted_nll(logits / a, y, w) < weighted_nll(logits / b, y, w):
            hi = b
        else:
            lo = a
    return float((lo + hi) / 2)


def build_head(
    kind: str,
    labels: Sequence[str],
    features: Sequence[str],
    mean: np.ndarray,
    scale: np.ndarray,
    params: list[np.ndarray],
    temperature: float,
) -> ClassifierHead:
    arrays: dict[str, np.ndarray] = {
        "format": np.asarray(HEAD_FORMAT),
        "kind": np.asarray(kind),
        "labels": np.asarray(list(labels), dtype=np.str_),
        "features": np.asarray(list(features), dtype=np.str_),
        "feature_mean": mean.astype(np.float32),
        "feature_scale": scale.astype(np.float32),
        "n_layers": np.asarray(len(params) // 2),
        "temperature": np.asarray(temperature),
    }
    for i in range(len(params) // 2):
        arrays[f"W{i}"] = params[2 * i].astype(np.float32)
        arrays[f"b{i}"] = params[2 * i + 1].astype(np.float32)
    return ClassifierHead(arrays)
