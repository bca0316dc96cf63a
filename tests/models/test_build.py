"""The model build: torch-free, byte-reproducible, and its two graphs compute the same states."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ticketlens
from ticketlens.models.build import (
    FP32_FILE,
    INT8_FILE,
    MANIFEST_FILE,
    REFERENCE_SHA256,
    _sha256,
    source_model_dir,
    write_graph,
)
from ticketlens.settings import Settings

pytestmark = pytest.mark.slow

_BLOCKED = ("torch", "transformers", "sentence_transformers")
# A fresh interpreter where the reference stack cannot be imported, even if installed.
_BUILD_WITHOUT_TORCH = f"""
import importlib.abc, json, sys
from pathlib import Path

attempts = []

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {_BLOCKED!r}:
            attempts.append(name)
            raise ModuleNotFoundError(f"{{name}} is blocked in this test", name=name)
        return None

sys.meta_path.insert(0, Block())
from ticketlens.models.build import build_models

build_models(Path(sys.argv[1]))
loaded = sorted(m for m in sys.modules if m.split(".")[0] in {_BLOCKED!r})
print(json.dumps({{"attempts": attempts, "loaded": loaded}}))
"""


@pytest.fixture(scope="module")
def torch_free_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[str]]]:
    """GIVEN a model folder built in a subprocess that cannot import torch or transformers."""
    out = tmp_path_factory.mktemp("build") / "models"
    src = str(Path(ticketlens.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run(
        [sys.executable, "-c", _BUILD_WITHOUT_TORCH, str(out)], capture_output=True, text=True, env=env, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, json.loads(proc.stdout.strip().splitlines()[-1])


def test_build_never_imports_torch(torch_free_build: tuple[Path, dict[str, list[str]]]) -> None:
    # WHEN the build ran with torch, transformers and sentence-transformers blocked
    folder, imports = torch_free_build
    # THEN it finished, wrote every file, and never even tried to import them
    assert imports == {"attempts": [], "loaded": []}
    assert {p.name for p in folder.iterdir()} == {FP32_FILE, INT8_FILE, "tokenizer.json", MANIFEST_FILE}


def test_build_reproduces_the_reference_files_byte_for_byte(
    torch_free_build: tuple[Path, dict[str, list[str]]],
) -> None:
    # GIVEN the folder the engine loads (its manifest) and the digests the heads were trained on
    folder, _ = torch_free_build
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    loaded_dir = Path(Settings().model_dir)
    # WHEN the rebuilt files are hashed
    rebuilt = {name: _sha256(folder / name) for name in (FP32_FILE, INT8_FILE)}
    # THEN they are the reference build, the manifest says so, and so does the engine's folder
    assert rebuilt == REFERENCE_SHA256
    assert {name: manifest["files"][name] for name in rebuilt} == rebuilt
    if (loaded_dir / MANIFEST_FILE).is_file():
        loaded = json.loads((loaded_dir / MANIFEST_FILE).read_text())["files"]
        assert {name: loaded[name] for name in rebuilt} == rebuilt


def test_unfused_graph_computes_the_shipped_token_states(tmp_path: Path) -> None:
    import onnxruntime as ort
    from tokenizers import Tokenizer

    from ticketlens.models import load_encoder

    # GIVEN the unfused graph written from the safetensors (what int8 is quantised from),
    # and the fused encoder that ships
    write_graph(source_model_dir(), tmp_path / "raw.onnx", fused=False)
    encoder = load_encoder(Settings())
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    raw = ort.InferenceSession(str(tmp_path / "raw.onnx"), options, providers=["CPUExecutionProvider"])
    # WHEN both run on a padded batch (one short text, one long)
    texts = ["Charged twice for INV-55812!", "The export button does nothing in Firefox; the spinner never stops."]
    encoded = encoder.encode(texts)
    tokenizer = Tokenizer.from_file(str(source_model_dir() / "tokenizer.json"))
    tokenizer.no_padding()
    width = max(len(s) for s in encoded.token_states)
    ids = np.zeros((2, width), np.int64)
    mask = np.zeros((2, width), np.int64)
    for row, text in enumerate(texts):
        token_ids = tokenizer.encode(text).ids
        ids[row, : len(token_ids)] = token_ids
        mask[row, : len(token_ids)] = 1
    (states,) = raw.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})
    # THEN every real token's state agrees with the shipped model's
    for row, shipped in enumerate(encoded.token_states):
        assert np.abs(states[row, : len(shipped)] - shipped).max() < 1e-4


def test_build_models_without_onnx_says_what_to_install(tmp_path: Path) -> None:
    # GIVEN a process where onnx cannot be imported (a runtime-only install)
    script = (
        "import importlib.abc, sys\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'onnx':\n"
        "            raise ModuleNotFoundError(name, name=name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from ticketlens.cli import main\n"
        "sys.exit(main(['build-models', '--out', sys.argv[1]]))\n"
    )
    src = str(Path(ticketlens.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))}
    # WHEN `ticketlens build-models` runs
    proc = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "models")], capture_output=True, text=True, env=env, timeout=120
    )
    # THEN it exits 2 with the reason and the install command, and leaves no folder behind
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "onnx is missing" in proc.stderr and "pip install -e '.[models]'" in proc.stderr
    assert not (tmp_path / "models").exists()
