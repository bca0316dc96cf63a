"""Ticket ids that never collide: the original demo's random 5-digit ids overwrote S3
objects after a few hundred tickets.

An id is ``TKT-`` plus a ULID-shaped string: 10 characters of creation time (ms) and 16 of
randomness, in Crockford base32 (no I, L, O, U; never '/' or spaces, so it is key-safe).
Within one factory the random part counts up while the time stands still, so ids made in the
same second are still distinct and sort in creation order; across factories 80 random bits
keep two runs apart.
"""

from __future__ import annotations

import random

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RANDOM_BITS = 80


def _base32(value: int, width: int) -> str:
    chars = []
    for _ in range(width):
        value, digit = divmod(value, 32)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))


class TicketIds:
    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._last_ms = -1
        self._last_random = 0

    def next(self, created_at: int) -> str:
        ms = created_at * 1000
        if ms <= self._last_ms:
            # Same (or earlier) time: keep the last time and count up, so order and uniqueness hold.
            ms, rand = self._last_ms, (self._last_random + 1) % (1 << _RANDOM_BITS)
        else:
            rand = self._rng.getrandbits(_RANDOM_BITS)
        self._last_ms, self._last_random = ms, rand
        return f"TKT-{_base32(ms, 10)}{_base32(rand, 16)}"
