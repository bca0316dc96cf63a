"""`ticketlens build-models`: write, fuse and quantise the encoder into a folder."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from ticketlens.models.build import BuildError, build_models
from ticketlens.settings import get_settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "build-models",
        help="build the ONNX encoder from the packaged weights (needs the 'models' extra)",
        description="Write all-MiniLM-L6-v2 as ONNX (fp32 fused + int8) from its safetensors weights, "
        "with a manifest of sha256s. No torch.",
    )
    parser.add_argument("--out", type=Path, default=None, help="target folder (default: TICKETLENS_MODEL_DIR)")
    parser.add_argument("--force", action="store_true", help="rebuild even if the folder is complete")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    out = args.out or get_settings().model_dir
    # Progress lines are INFO; this command exists to show them, whatever the -v level.
    logging.getLogger("ticketlens.models").setLevel(min(logging.INFO, logging.getLogger().level))
    try:
        folder = build_models(out, force=args.force)
    except BuildError as error:
        print(f"ticketlens build-models: {error}", file=sys.stderr)
        return 2
    print(folder)
    return 0
