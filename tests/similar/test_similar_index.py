"""The embedded index under concurrent writers: a local folder and an S3 prefix on a real
moto server over HTTP. Every writer's rows must be there, exactly once, whatever the race."""

from __future__ import annotations

import sys
import threading
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from similar_helpers import rows

from ticketlens.similar.index import KEEP_MANIFESTS, MANIFESTS, SEGMENTS, Manifest, SegmentedIndex
from ticketlens.similar.search import Query
from ticketlens.similar.storage import FolderStorage, S3Storage, Storage

WRITERS = 6
BATCHES = 8
ROWS = 15


@pytest.fixture(params=["folder", "s3"])
def make_storage(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], Storage]:
    """GIVEN a fresh, empty index location: a local folder, or a prefix of a bucket on the
    moto server (real HTTP); each call returns a new client onto the same place."""
    if request.param == "folder":
        return lambda: FolderStorage(tmp_path / "index")
    endpoint = request.getfixturevalue("aws_env")
    import boto3

    bucket = f"index-{uuid.uuid4().hex[:10]}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=bucket)
    return lambda: S3Storage(boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1"), bucket, "index/")


def _all_ids(index: SegmentedIndex) -> list[str]:
    snapshot = index.snapshot()
    return sorted(np.concatenate([s.ticket_id for s in snapshot.segments]).tolist()) if snapshot.segments else []


def test_create_only_write_lets_exactly_one_writer_win(make_storage: Callable[[], Storage]) -> None:
    # GIVEN eight writers racing to create the same key at once
    storage = make_storage()
    barrier = threading.Barrier(8)
    won: list[int] = []

    def race(n: int) -> None:
        barrier.wait()
        if make_storage().put_new("manifests/race.json", f"writer {n}".encode()):
            won.append(n)

    threads = [threading.Thread(target=race, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # THEN exactly one succeeded, and the object holds its bytes
    assert len(won) == 1
    assert storage.get("manifests/race.json") == f"writer {won[0]}".encode()


def test_concurrent_writers_lose_nothing_and_duplicate_nothing(make_storage: Callable[[], Storage]) -> None:
    # GIVEN six writers, each with its own index object (as six Lambda containers would)
    errors: list[BaseException] = []
    barrier = threading.Barrier(WRITERS)

    def writer(w: int) -> None:
        index = SegmentedIndex(make_storage())
        barrier.wait()
        try:
            for b in range(BATCHES):
                index.append(rows(f"w{w}b{b}", ROWS))
        except BaseException as error:
            errors.append(error)

    # WHEN they all append batches at the same time (compacting as they go)
    threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # THEN every row of every writer is in the newest snapshot exactly once
    assert errors == []
    reader = SegmentedIndex(make_storage())
    expected = sorted(f"w{w}b{b}-{n:04d}" for w in range(WRITERS) for b in range(BATCHES) for n in range(ROWS))
    assert _all_ids(reader) == expected
    # AND the manifests form an unbroken chain of generations, the newest the reader's
    storage = make_storage()
    generations = [int(o.key.removeprefix(MANIFESTS).removesuffix(".json")) for o in storage.list(MANIFESTS)]
    assert generations == list(range(1, max(generations) + 1))
    assert reader.snapshot().generation == max(generations) >= WRITERS * BATCHES
    # AND compaction kept the segment count small
    assert len(reader.snapshot().segments) < WRITERS * BATCHES / 2


def test_a_reader_keeps_a_consistent_snapshot_while_writers_compact(make_storage: Callable[[], Storage]) -> None:
    # GIVEN an index with some rows, and a reader that has taken its snapshot
    writer = SegmentedIndex(make_storage())
    for b in range(3):
        writer.append(rows(f"a{b}", 10))
    reader = SegmentedIndex(make_storage())
    before = reader.snapshot()
    # WHEN a writer appends more and compacts everything into one segment
    writer.append(rows("late", 10))
    writer.compact(force=True)
    # THEN the old snapshot still answers from its own segments (nothing deleted under it)
    assert len(before) == 30
    assert before.search([Query(before.segments[0].vectors[0], "printer")], 1)[0][0].ticket_id == "a0-0000"
    # AND a fresh snapshot sees all 40 rows in one segment
    after = reader.snapshot()
    assert len(after) == 40 and len(after.segments) == 1 and after.generation > before.generation


def test_garbage_is_collected_only_past_the_grace_time(make_storage: Callable[[], Storage]) -> None:
    # GIVEN an index compacted into one segment, then KEEP_MANIFESTS more small commits (so no
    # kept manifest names the segments compaction replaced), and an orphan a crashed writer left
    index = SegmentedIndex(make_storage(), compact=False)
    for b in range(3):
        index.append(rows(f"g{b}", 5))
    replaced = {o.key for o in make_storage().list(SEGMENTS)}
    index.compact(force=True)
    for b in range(3, 3 + KEEP_MANIFESTS):
        index.append(rows(f"g{b}", 5))
    storage = make_storage()
    storage.put(f"{SEGMENTS}0000000000000-orphan.npz", b"left behind")
    live = {e.name for e in Manifest.from_bytes(storage.get(storage.list(MANIFESTS)[-1].key) or b"").segments}
    # WHEN garbage is collected now, and again as if an hour had passed
    removed_now = index.collect_garbage()
    removed_later = index.collect_garbage(now=storage.list(SEGMENTS)[-1].modified + 3600)
    # THEN nothing young is touched; later the orphan and the replaced segments go, the live ones stay
    assert removed_now == []
    assert f"{SEGMENTS}0000000000000-orphan.npz" in removed_later
    assert replaced <= set(removed_later)
    remaining = {o.key for o in storage.list(SEGMENTS)}
    assert live <= remaining and not (replaced & remaining)
    everything = sorted(f"g{b}-{n:04d}" for b in range(3 + KEEP_MANIFESTS) for n in range(5))
    assert _all_ids(SegmentedIndex(make_storage())) == everything


def test_an_empty_index_has_generation_zero(make_storage: Callable[[], Storage]) -> None:
    # GIVEN nothing written WHEN read THEN an empty snapshot at generation 0, and appending nothing commits nothing
    index = SegmentedIndex(make_storage())
    assert index.snapshot().generation == 0 and len(index.snapshot()) == 0
    assert index.append([]).segment is None
    assert make_storage().list(MANIFESTS) == []


def test_the_merge_policy_merges_small_neighbours_and_leaves_final_segments() -> None:
    from ticketlens.similar.index import BASE_ROWS, FANOUT, MAX_LEVEL, SegmentEntry, _run_to_merge

    def entries(*sizes: int) -> list[SegmentEntry]:
        return [SegmentEntry(f"s{n}", size, 0, 0) for n, size in enumerate(sizes)]

    big = BASE_ROWS * FANOUT ** MAX_LEVEL  # a final segment
    # GIVEN a large segment followed by FANOUT small ones THEN the small run is merged
    run = _run_to_merge(entries(5000, *[10] * FANOUT), force=False)
    assert run is not None and (run.start, run.stop) == (1, 1 + FANOUT)
    # GIVEN fewer than FANOUT small ones THEN nothing is merged yet
    assert _run_to_merge(entries(5000, 10, 10), force=False) is None
    # GIVEN FANOUT final segments THEN they stay as they are, unless forced
    assert _run_to_merge(entries(*[big] * FANOUT), force=False) is None
    forced = _run_to_merge(entries(*[big] * FANOUT), force=True)
    assert forced is not None and (forced.start, forced.stop) == (0, FANOUT)


def test_a_reader_follows_an_index_that_was_emptied_and_started_again(make_storage: Callable[[], Storage]) -> None:
    # GIVEN a reader that has seen generation 3
    writer = SegmentedIndex(make_storage(), compact=False)
    for b in range(3):
        writer.append(rows(f"old{b}", 4))
    reader = SegmentedIndex(make_storage())
    assert reader.snapshot().generation == 3
    # WHEN everything is deleted (`ticketlens clean`) and a new writer appends one batch
    storage = make_storage()
    storage.delete([o.key for o in storage.list("")])
    SegmentedIndex(make_storage()).append(rows("new", 2))
    # THEN the reader sees the new index, not its cached old one
    after = reader.snapshot()
    assert after.generation == 1 and _all_ids(reader) == ["new-0000", "new-0001"]


def test_listing_a_folder_while_another_writer_deletes_never_fails(tmp_path: Path) -> None:
    # GIVEN a folder index whose segments another writer keeps creating and deleting
    # (an abandoned compaction deletes its merged segment while others list for garbage)
    storage = FolderStorage(tmp_path / "index")
    stop = threading.Event()

    def churn() -> None:
        n = 0
        while not stop.is_set():
            keys = [f"{SEGMENTS}{n:06d}-{i}.npz" for i in range(20)]
            for key in keys:
                storage.put(key, b"x")
            storage.delete(keys)
            n += 1

    thread = threading.Thread(target=churn)
    thread.start()
    try:
        # WHEN the listing runs many times meanwhile
        for _ in range(300):
            listed = storage.list(SEGMENTS)
            # THEN it never fails, and lists only whole segments, never temporary files
            assert all(o.key.startswith(SEGMENTS) and o.key.endswith(".npz") and o.size == 1 for o in listed)
    finally:
        stop.set()
        thread.join()
