"""The embedded index: immutable segments plus numbered manifests, safe for many writers.

Layout under the storage root::

    segments/<ms>-<uuid>.npz        one per appended batch or compaction, never rewritten
    manifests/<generation>.json     the segments of one consistent state, 20-digit numbers

A writer stores its segment under a fresh name (no conflict possible), then commits by
creating ``manifests/<g+1>.json`` with a create-only write. When two writers race for the
same generation exactly one create succeeds; the other re-reads the newest manifest, puts
its segment on top of it and tries ``g+2``. Nobody waits on a lock, nothing is overwritten,
and the only serialised step is one small PUT. A reader lists ``manifests/`` for the
highest generation and reads the segments it names: a consistent snapshot, whatever
writers do meanwhile. Segments are cached by name for the life of the process.

Compaction merges a run of adjacent small segments into one and commits a manifest that
swaps the run for the merged segment, rebased the same way (and abandoned if a concurrent
compaction took the run first). Objects no manifest of the last few generations names are
deleted once they are older than ``grace_s``, so a reader holding an older snapshot, or a
writer between storing and committing a segment, never loses a file under it.
"""

from __future__ import annotations

import json
import logging
import math
import random
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ticketlens.similar.search import Snapshot
from ticketlens.similar.segment import IndexRow, Segment
from ticketlens.similar.storage import Storage

log = logging.getLogger(__name__)

MANIFESTS = "manifests/"
SEGMENTS = "segments/"
MANIFEST_FORMAT = 1
FANOUT = 4  # merge this many adjacent segments of one size level
BASE_ROWS = 256  # segments under this many rows are all level 0
MAX_LEVEL = 5  # segments of this level (>= 65,536 rows) are final: no automatic merge writes 262,144 rows or more
MAX_SEGMENTS = 48  # above this, merge the smallest adjacent run of non-final segments whatever their levels
KEEP_MANIFESTS = 8
GRACE_S = 900.0  # a Lambda runs at most 15 minutes: nothing older is still being written
COMMIT_ATTEMPTS = 64


class IndexBusy(RuntimeError):
    """A commit lost the race for a new generation too many times in a row."""


@dataclass(frozen=True)
class SegmentEntry:
    name: str
    rows: int
    min_created: int
    max_created: int

    @property
    def level(self) -> int:
        if self.rows < BASE_ROWS:
            return 0
        return 1 + int(math.log(self.rows / BASE_ROWS, FANOUT))


@dataclass(frozen=True)
class Manifest:
    generation: int
    segments: tuple[SegmentEntry, ...] = ()
    committed_at: float = 0.0

    @property
    def key(self) -> str:
        return manifest_key(self.generation)

    def to_bytes(self) -> bytes:
        return json.dumps({
            "format": MANIFEST_FORMAT,
            "generation": self.generation,
            "committed_at": self.committed_at,
            "segments": [entry.__dict__ for entry in self.segments],
        }, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        raw = json.loads(data)
        if raw.get("format") != MANIFEST_FORMAT:
            raise ValueError(f"manifest format {raw.get('format')!r} is not {MANIFEST_FORMAT}")
        return cls(
            generation=int(raw["generation"]),
            segments=tuple(SegmentEntry(**entry) for entry in raw["segments"]),
            committed_at=float(raw.get("committed_at", 0.0)),
        )


def manifest_key(generation: int) -> str:
    return f"{MANIFESTS}{generation:020d}.json"


@dataclass
class CommitResult:
    generation: int
    segment: str | None
    rows: int
    attempts: int
    compacted: list[str] = field(default_factory=list)


class SegmentedIndex:
    """Append, snapshot and compact an index held in a :class:`Storage`."""

    def __init__(self, storage: Storage, *, grace_s: float = GRACE_S, compact: bool = True) -> None:
        self.storage = storage
        self.grace_s = grace_s
        self.auto_compact = compact
        self._lock = threading.Lock()
        self._cache: dict[str, Segment] = {}
        self._manifest = Manifest(0)
        self._snapshot = Snapshot(0, ())

    @property
    def location(self) -> str:
        return self.storage.location

    # -- reading --------------------------------------------------------------------------
    def latest_manifest(self) -> Manifest:
        """The newest committed manifest (generation 0 with no segments for a new index).

        Lists only the manifests after the newest one this object has seen (S3 LIST
        ``StartAfter``), then GETs the last. When there is none newer, the known manifest
        must still exist; if it does not, the index was emptied and started again
        (``ticketlens clean``) and the listing starts from the beginning.
        """
        with self._lock:
            known = self._manifest
        for _ in range(5):
            after = known.key if known.generation else ""
            keys = [o.key for o in self.storage.list(MANIFESTS, start_after=after) if o.key.endswith(".json")]
            if not keys:
                if known.generation and self.storage.get(known.key) is None:
                    known = Manifest(0)  # emptied: look again from the start
                    continue
                return self._seen(known)
            data = self.storage.get(keys[-1])
            if data is not None:
                return self._seen(Manifest.from_bytes(data))
        raise IndexBusy("manifests keep disappearing between LIST and GET")

    def _seen(self, manifest: Manifest) -> Manifest:
        with self._lock:
            self._manifest = manifest
        return manifest

    def snapshot(self) -> Snapshot:
        """The index as of its newest manifest; unchanged segments come from memory.

        A generation lower than the one last seen means the index was emptied and started
        again (``ticketlens clean``): generations only grow otherwise.
        """
        manifest = self.latest_manifest()
        with self._lock:
            if manifest.generation == self._snapshot.generation and (self._snapshot.segments or not manifest.segments):
                return self._snapshot
        segments = tuple(self._segment(entry.name) for entry in manifest.segments)
        with self._lock:
            self._snapshot = Snapshot(manifest.generation, segments)
            wanted = {entry.name for entry in manifest.segments}
            self._cache = {name: seg for name, seg in self._cache.items() if name in wanted}
            return self._snapshot

    def _segment(self, name: str) -> Segment:
        with self._lock:
            cached = self._cache.get(name)
        if cached is not None:
            return cached
        data = self.storage.get(name)
        if data is None:
            raise FileNotFoundError(f"segment {name} named by the manifest is missing from {self.location}")
        segment = Segment.from_bytes(data)
        with self._lock:
            self._cache[name] = segment
        return segment

    # -- writing --------------------------------------------------------------------------
    def append(self, rows: Sequence[IndexRow]) -> CommitResult:
        """Store the rows as one new segment and commit it; compact when the tail has grown."""
        if not rows:
            return CommitResult(self._manifest.generation, None, 0, 0)
        segment = Segment.from_rows(rows)
        entry = self._store(segment)
        manifest, attempts = self._commit(lambda m: Manifest(m.generation + 1, (*m.segments, entry), time.time()))
        assert manifest is not None
        self._remember(manifest, {entry.name: segment})
        result = CommitResult(manifest.generation, entry.name, len(rows), attempts)
        if self.auto_compact:
            result.compacted = self.compact()
        return result

    def compact(self, force: bool = False) -> list[str]:
        """Merge runs of adjacent segments while the policy (or ``force``: everything) asks for it.

        Returns the names of the segments written. Safe to run from any number of writers.
        """
        written: list[str] = []
        for _ in range(8):
            manifest = self.latest_manifest()
            run = _run_to_merge(manifest.segments, force)
            if not run:
                break
            inputs = manifest.segments[run.start:run.stop]
            merged = Segment.merge([self._segment(e.name) for e in inputs])
            entry = self._store(merged)
            names = [e.name for e in inputs]

            def swap(m: Manifest, names: list[str] = names, entry: SegmentEntry = entry) -> Manifest | None:
                current = [e.name for e in m.segments]
                for start in range(len(current) - len(names) + 1):
                    if current[start:start + len(names)] == names:
                        kept = (*m.segments[:start], entry, *m.segments[start + len(names):])
                        return Manifest(m.generation + 1, kept, time.time())
                return None  # a concurrent compaction took (part of) the run

            committed, _ = self._commit(swap)
            if committed is None:
                self.storage.delete([entry.name])  # never named by a manifest: nobody reads it
                continue
            self._remember(committed, {entry.name: merged})
            written.append(entry.name)
            if force and len(committed.segments) <= 1:
                break
        if written:
            self.collect_garbage()
        return written

    def collect_garbage(self, now: float | None = None) -> list[str]:
        """Delete manifests and segments that no recent manifest names, once past the grace time."""
        now = time.time() if now is None else now
        manifests = self.storage.list(MANIFESTS)
        keep = manifests[-KEEP_MANIFESTS:]
        referenced: set[str] = set()
        for obj in keep:
            data = self.storage.get(obj.key)
            if data is not None:
                referenced |= {e.name for e in Manifest.from_bytes(data).segments}
        old_manifests = [o.key for o in manifests[:-KEEP_MANIFESTS] if now - o.modified > self.grace_s]
        orphans = [o.key for o in self.storage.list(SEGMENTS)
                   if o.key not in referenced and now - o.modified > self.grace_s]
        self.storage.delete(orphans + old_manifests)
        return orphans + old_manifests

    def _store(self, segment: Segment) -> SegmentEntry:
        name = f"{SEGMENTS}{int(time.time() * 1000):013d}-{uuid.uuid4().hex}.npz"
        self.storage.put(name, segment.to_bytes())
        created = segment.created_at
        return SegmentEntry(name, len(segment), int(created.min()) if len(created) else 0,
                            int(created.max()) if len(created) else 0)

    def _commit(self, change: Callable[[Manifest], Manifest | None]) -> tuple[Manifest | None, int]:
        """Apply ``change`` to the newest manifest and create the next generation; retry on a lost race."""
        delay = 0.005
        for attempt in range(1, COMMIT_ATTEMPTS + 1):
            current = self.latest_manifest()
            proposed = change(current)
            if proposed is None:
                return None, attempt
            if self.storage.put_new(proposed.key, proposed.to_bytes()):
                return proposed, attempt
            time.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 2, 0.5)
        raise IndexBusy(f"could not commit to {self.location} after {COMMIT_ATTEMPTS} attempts")

    def _remember(self, manifest: Manifest, fresh: dict[str, Segment]) -> None:
        """Keep what this writer just stored; forget segments the manifest no longer names."""
        wanted = {entry.name for entry in manifest.segments}
        with self._lock:
            self._cache.update(fresh)
            self._cache = {name: seg for name, seg in self._cache.items() if name in wanted}


@dataclass(frozen=True)
class _Run:
    start: int
    stop: int


def _run_to_merge(entries: Sequence[SegmentEntry], force: bool) -> _Run | None:
    """The adjacent segments to merge next: the lowest level with FANOUT neighbours in a row."""
    if len(entries) < 2:
        return None
    if force:
        return _Run(0, len(entries))
    best: _Run | None = None
    start = 0
    for i in range(1, len(entries) + 1):
        if i == len(entries) or entries[i].level != entries[start].level:
            level = entries[start].level
            if i - start >= FANOUT and level < MAX_LEVEL and (best is None or level < entries[best.start].level):
                best = _Run(start, i)
            start = i
    if best is None and len(entries) > MAX_SEGMENTS:
        runs = [i for i in range(len(entries) - FANOUT + 1)
                if all(e.level < MAX_LEVEL for e in entries[i:i + FANOUT])]
        if runs:
            i = min(runs, key=lambda r: sum(e.rows for e in entries[r:r + FANOUT]))
            best = _Run(i, i + FANOUT)
    return best
