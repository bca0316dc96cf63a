"""The sentence-transformers + torch path the project replaced, kept as a yardstick.

Used by the parity test and by `ticketlens bench` for the side-by-side ratio; never by
the pipeline. Needs the `reference` extra (sentence-transformers, torch).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ticketlens.models.build import source_model_dir
from ticketlens.models.encoder import Encoded


class ReferenceEncoder:
    """all-MiniLM-L6-v2 through sentence-transformers on torch, same outputs as `Encoder`."""

    def __init__(self, model_path: Path | None = None, *, max_tokens: int = 256, threads: int = 0) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads or len(os.sched_getaffinity(0)))
        self._model = SentenceTransformer(str(model_path or source_model_dir()), device="cpu")
        self._model.max_seq_length = max_tokens
        self._tokenizer = self._model.tokenizer
        self.max_tokens = max_tokens
        self.variant = "reference"
        self.version = "minilm-l6-v2-sentence-transformers"
        self.dim = 384

    def encode(self, texts: list[str], batch_size: int = 32) -> Encoded:
        outputs = self._model.encode(texts, batch_size=batch_size, output_value=None, convert_to_numpy=False)
        embeddings = np.stack([o["sentence_embedding"].float().numpy() for o in outputs]).astype(np.float32)
        embeddings /= np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)
        offsets = self._tokenizer(
            texts, truncation=True, max_length=self.max_tokens, return_offsets_mapping=True
        )["offset_mapping"]
        states = [o["token_embeddings"].float().numpy()[: len(offs)] for o, offs in zip(outputs, offsets, strict=True)]
        return Encoded(embeddings=embeddings, token_states=states, offsets=[list(map(tuple, o)) for o in offsets])

    def embed(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        return self._model.encode(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True)
