"""Test helpers for the similar-ticket suite (imported by path: tests/ has no packages)."""

from __future__ import annotations

import zlib

import numpy as np

from ticketlens.similar.segment import IndexRow

DIM = 384


def unit(seed: int) -> np.ndarray:
    """A reproducible random unit vector."""
    vector = np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)
    return vector / np.linalg.norm(vector)


def near(vector: np.ndarray, seed: int, noise: float = 0.05) -> np.ndarray:
    """A unit vector close to ``vector`` (cosine about 1 - noise**2 * DIM / 2)."""
    other = vector + noise * np.random.default_rng(seed).standard_normal(DIM).astype(np.float32) / np.sqrt(DIM) * 4
    return other / np.linalg.norm(other)


def rows(prefix: str, count: int, start: int = 1_000, text: str = "printer jams on page two") -> list[IndexRow]:
    """``count`` rows with unrelated random vectors, one second apart."""
    return [
        IndexRow(ticket_id=f"{prefix}-{n:04d}", created_at=start + n,
                 embedding=unit(zlib.crc32(f"{prefix}-{n}".encode())),
                 text=f"{text} {prefix} item{n}", customer_id=f"C{n % 3}", intent="bug_report", urgency="low",
                 summary=f"{prefix} {n}")
        for n in range(count)
    ]
