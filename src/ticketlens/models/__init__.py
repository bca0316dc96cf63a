"""Model files: where they live, building them when missing, loading the encoder once."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from ticketlens.models.build import MANIFEST_FILE, BuildError, build_models
from ticketlens.models.encoder import Encoded, Encoder, TextEncoder
from ticketlens.settings import Settings, get_settings

__all__ = ["BuildError", "Encoded", "Encoder", "TextEncoder", "ensure_model_dir", "load_encoder"]

log = logging.getLogger(__name__)
_lock = threading.Lock()
_cache: dict[tuple[Path, str, int, int], Encoder] = {}


def ensure_model_dir(settings: Settings) -> Path:
    """The built model folder; builds it on first use when the settings allow."""
    model_dir = Path(settings.model_dir)
    if (model_dir / MANIFEST_FILE).is_file():
        return model_dir
    if not settings.build_if_missing:
        raise BuildError(
            f"no built encoder in {model_dir}: run `ticketlens build-models --out {model_dir}` "
            "or point TICKETLENS_MODEL_DIR at a model layer"
        )
    return build_models(model_dir)


def load_encoder(settings: Settings | None = None) -> Encoder:
    """The process-wide encoder for these settings, loaded once (Lambda: once per container)."""
    settings = settings or get_settings()
    key = (Path(settings.model_dir), settings.encoder_variant, settings.max_tokens, settings.threads)
    with _lock:
        if key not in _cache:
            model_dir = ensure_model_dir(settings)
            _cache[key] = Encoder(
                model_dir, variant=settings.encoder_variant, max_tokens=settings.max_tokens, threads=settings.threads
            )
            log.info("loaded encoder %s from %s", _cache[key].version, model_dir)
        return _cache[key]
