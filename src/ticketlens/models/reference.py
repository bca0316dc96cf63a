"""The sentence-transformers + torch path the project replaced, kept as a yardstick.

Used by the parity tests and by `ticketlens bench` for the side-by-side ratio; never by
the pipeline or the model build. Needs the `reference` extra (torch, transformers,
sentence-transformers).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from ticketlens.models.build import source_model_dir
from ticketlens.models.encoder import Encoded

# The versions whose output the torch-free graph writers reproduce byte for byte: torch's
# export (models/_bert_graph.py) and onnxruntime's fusion of it (models/_fused_graph.py).
# Other versions may name, order or fuse nodes differently.
EXPORT_MIRRORS = {"torch": "2.13.0", "transformers": "5.24.0"}
FUSION_MIRRORS = {"onnxruntime": "1.32.0"}


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


def export_with_torch(source: Path, target: Path) -> None:
    """The unfused token-states graph as torch.onnx.export writes it (the build before this one)."""
    import torch
    from transformers import AutoModel

    # Eager attention traces to plain MatMul/Softmax, which onnxruntime fuses into one op.
    model = AutoModel.from_pretrained(str(source), attn_implementation="eager")
    model.eval()

    class _TokenStates(torch.nn.Module):
        def __init__(self, bert: torch.nn.Module) -> None:
            super().__init__()
            self.bert = bert

        def forward(
            self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
        ) -> torch.Tensor:
            out = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    example = (*(torch.ones(2, 16, dtype=torch.long) for _ in range(2)), torch.zeros(2, 16, dtype=torch.long))
    names = ["input_ids", "attention_mask", "token_type_ids"]
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer chatter about shapes that are fixed here
        torch.onnx.export(
            _TokenStates(model),
            example,
            str(target),
            input_names=names,
            output_names=["token_states"],
            dynamic_axes={name: {0: "batch", 1: "tokens"} for name in [*names, "token_states"]},
            opset_version=17,
            dynamo=False,
        )


def fuse_with_onnxruntime(raw: Path, target: Path) -> None:
    """onnxruntime's transformer fusion of the unfused graph (the fp32 build before this one).

    Its shape inference needs sympy, which torch brings; the torch-free build writes the
    fused graph directly instead."""
    from onnxruntime.transformers.optimizer import optimize_model

    # MiniLM-L6: 12 heads of width 32, hidden size 384.
    fused = optimize_model(str(raw), model_type="bert", num_heads=12, hidden_size=384, opt_level=0)
    fused.save_model_to_file(str(target))
