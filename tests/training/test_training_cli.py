"""`ticketlens train --labels` then `ticketlens eval`, end to end, on a tiny custom taxonomy.

The encoder is replaced by a deterministic bag-of-words hash embedder so the test checks
the training/eval plumbing in well under a second; the real encoder is exercised by
test_training_packaged_vs_keywords.py.
"""

from __future__ import annotations

import json
import re
import zlib
from pathlib import Path

import numpy as np
import pytest

from ticketlens.cli import main
from ticketlens.enrichment.heads import ClassifierHead
from ticketlens.training import embed as embed_module

TOPICS = {
    "refund": ["refund", "money back", "reimburse", "return payment", "credit my card"],
    "crash": ["crash", "freezes", "closes suddenly", "stops responding", "hangs"],
    "greeting": ["hello", "good morning", "hi there", "hey team", "greetings"],
}


def _fake_embed(texts: list[str]) -> np.ndarray:
    out = np.zeros((len(texts), 384), dtype=np.float32)
    for i, text in enumerate(texts):
        for word in re.findall(r"[a-z]+", text.lower()):
            out[i, zlib.crc32(word.encode()) % 384] += 1.0
    out += 1e-3
    return out / np.linalg.norm(out, axis=1, keepdims=True)


@pytest.fixture
def fake_encoder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TICKETLENS_EMBED_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(embed_module, "_encoder", _fake_embed)


def _write_labels(path: Path, repeat: int) -> None:
    rows = []
    for label, phrases in TOPICS.items():
        for k in range(repeat):
            phrase = phrases[k % len(phrases)]
            rows.append({"text": f"{phrase} please, ticket {k}", "label": label})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def test_train_on_custom_labels_then_eval(
    tmp_path: Path, fake_encoder: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a user's jsonl with a 3-label taxonomy of their own
    train_file, eval_file = tmp_path / "mine.jsonl", tmp_path / "mine-eval.jsonl"
    _write_labels(train_file, repeat=12)
    _write_labels(eval_file, repeat=5)
    out = tmp_path / "heads" / "mine.npz"
    # WHEN `ticketlens train --labels ... --out ...` runs
    code = main(["train", "--labels", str(train_file), "--out", str(out), "--no-plot",
                 "--hidden", "16", "--epochs", "60"])
    # THEN it writes a loadable head for exactly those labels, with its metrics beside it
    assert code == 0
    head = ClassifierHead.load(out)
    assert head.labels == ("crash", "greeting", "refund") and head.kind == "mine"
    metrics = json.loads(out.with_name("mine.metrics.json").read_text())
    assert metrics["version"] == head.version and metrics["data"]["n"] == 36
    assert set(metrics["data"]["by_split_and_label"]) == {"train", "calib", "val"}
    capsys.readouterr()
    # WHEN `ticketlens eval` scores that head on held-out rows
    code = main(["eval", "--labels", str(eval_file), "--head", str(out)])
    printed = capsys.readouterr().out
    # THEN it prints accuracy, macro-F1, ECE and per-class F1, and the head separates the topics
    assert code == 0
    for needle in ("accuracy", "macro-F1", "ECE", "crash", "greeting", "refund"):
        assert needle in printed
    accuracy = float(re.search(r"accuracy\s+([0-9.]+)", printed).group(1))  # type: ignore[union-attr]
    assert accuracy >= 0.9
    # AND --json gives the same report machine-readably
    assert main(["eval", "--labels", str(eval_file), "--head", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)["report"]
    assert report["n"] == 15 and 0.0 <= report["ece"] <= 1.0


def test_train_labels_without_out_is_a_usage_error(tmp_path: Path, fake_encoder: None) -> None:
    # GIVEN a labels file but no --out
    labels = tmp_path / "x.jsonl"
    _write_labels(labels, repeat=4)
    # THEN train refuses with exit code 2 before doing any work
    assert main(["train", "--labels", str(labels)]) == 2


def test_embedding_cache_embeds_each_text_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a cache directory and an embedder that counts its calls
    seen: list[str] = []

    def counting(texts: list[str]) -> np.ndarray:
        seen.extend(texts)
        return _fake_embed(texts)

    cache = embed_module.EmbeddingCache(tmp_path / "c")
    # WHEN the same texts are embedded twice, the second time from a fresh cache object
    first = cache.embed(["a b", "c d", "a b"], counting)
    second = embed_module.EmbeddingCache(tmp_path / "c").embed(["c d", "a b"], counting)
    # THEN each distinct text was embedded once and the vectors agree
    assert sorted(seen) == ["a b", "c d"]
    np.testing.assert_array_equal(first[1], second[0])


def test_embedding_cache_is_kept_apart_per_encoder_build(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from ticketlens.training.embed import default_cache_dir

    # GIVEN a cache root
    monkeypatch.setenv("TICKETLENS_EMBED_CACHE", str(tmp_path))
    folders = {}
    for variant in ("fp32", "int8"):
        # WHEN the fp32 and the int8 encoder are configured in turn (a fresh process each)
        monkeypatch.setenv("TICKETLENS_ENCODER_VARIANT", variant)
        monkeypatch.setattr(embed_module, "_encoder", None)
        monkeypatch.setattr(embed_module, "_encoder_name", None)
        folders[variant] = default_cache_dir()
    # THEN each build's vectors live in their own folder, named by the encoder's version
    assert folders["fp32"].parent == folders["int8"].parent == tmp_path
    assert "fp32" in folders["fp32"].name and "int8" in folders["int8"].name
