"""The two ways a generator run fails, which the front doors report differently."""

from __future__ import annotations


class ConfigError(Exception):
    """The run cannot start as configured (bad option, missing bucket, unreachable endpoint): exit 2."""


class SinkError(Exception):
    """A ticket could not be written after the run started: exit 1."""
