"""The sentence encoder at run time: onnxruntime + tokenizers, no torch.

One forward pass per batch returns token states; the ticket embedding is their mean. The
states and their character offsets are returned too, so a summarizer can pool them per
sentence without a second pass (the default extractive one scores sentences lexically:
pooled similarity earned no weight on TweetSumm, see docs/summary.md).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from ticketlens.models.build import FP32_FILE, INT8_FILE, MANIFEST_FILE, TOKENIZER_FILE

Variant = Literal["fp32", "int8"]


@dataclass(frozen=True)
class Encoded:
    """A batch after one forward pass, in input order."""

    embeddings: np.ndarray  # (n, 384) float32, L2-normalised
    token_states: list[np.ndarray]  # per text: (tokens, 384), padding removed
    offsets: list[list[tuple[int, int]]]  # per text: char span of each token ((0, 0) = special)


class TextEncoder(Protocol):
    """What the enricher needs of an encoder: :class:`Encoder`, or the torch reference
    (``models.reference``) that the benchmark and the parity tests put in its place."""

    version: str

    def encode(self, texts: list[str], batch_size: int = 32) -> Encoded: ...


class Encoder:
    """all-MiniLM-L6-v2 with mean pooling, loaded from a built model folder."""

    def __init__(
        self,
        model_dir: Path,
        *,
        variant: Variant = "fp32",
        max_tokens: int = 256,
        threads: int = 0,
        max_batch_tokens: int = 512,
    ) -> None:
        model_dir = Path(model_dir)
        manifest = json.loads((model_dir / MANIFEST_FILE).read_text())
        model_file = FP32_FILE if variant == "fp32" else INT8_FILE
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or len(os.sched_getaffinity(0))
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(
            str(model_dir / model_file), options, providers=["CPUExecutionProvider"]
        )
        self._tokenizer = Tokenizer.from_file(str(model_dir / TOKENIZER_FILE))
        self._tokenizer.enable_truncation(max_length=max_tokens)
        self._tokenizer.no_padding()
        self.variant: Variant = variant
        self.version = f"minilm-l6-v2-{variant}-{manifest['files'][model_file][:8]}"
        self.dim = 384
        self.max_batch_tokens = max_batch_tokens

    def encode(self, texts: list[str], batch_size: int = 32) -> Encoded:
        """Run the encoder over texts in length-sorted sub-batches, in input order.

        Padding is the main cost on a CPU: attention and every dense layer run over padded
        positions too. So texts are sorted by token count and cut into sub-batches whose padded
        size stays under `max_batch_tokens`, at most `batch_size` texts each.
        """
        encodings = self._tokenizer.encode_batch(texts)
        n = len(texts)
        embeddings = np.zeros((n, self.dim), dtype=np.float32)
        states: list[np.ndarray] = [np.empty((0, self.dim), np.float32)] * n
        lengths = [len(e.ids) for e in encodings]
        for chunk in _length_batches(lengths, batch_size, self.max_batch_tokens):
            width = lengths[chunk[-1]]
            ids = np.zeros((len(chunk), width), dtype=np.int64)
            mask = np.zeros((len(chunk), width), dtype=np.int64)
            for row, i in enumerate(chunk):
                ids[row, : lengths[i]] = encodings[i].ids
                mask[row, : lengths[i]] = 1
            (hidden,) = self._session.run(
                None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            )
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            embeddings[chunk] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            for row, i in enumerate(chunk):
                states[i] = hidden[row, : lengths[i]]
        return Encoded(embeddings=embeddings, token_states=states, offsets=[e.offsets for e in encodings])

    def embed(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """L2-normalised sentence embeddings, (n, 384) float32."""
        return self.encode(texts, batch_size).embeddings


def _length_batches(lengths: list[int], batch_size: int, max_batch_tokens: int) -> list[list[int]]:
    """Indices grouped shortest first; each group's padded size stays within the budget."""
    batches: list[list[int]] = []
    current: list[int] = []
    for i in sorted(range(len(lengths)), key=lengths.__getitem__):
        if current and (len(current) >= batch_size or (len(current) + 1) * lengths[i] > max_batch_tokens):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches
