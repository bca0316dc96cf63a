"""The no-action flag's own data: written from two briefs, with no held-out line that is a
near copy of a training line (so the held-out figures measure generalisation)."""

from __future__ import annotations

import difflib
from collections import Counter

from ticketlens.schemas import FLAGS, NO_FLAG
from ticketlens.training.data import FLAG_EVAL_FILE, FLAG_TRAIN_FILE, packaged_data, read_jsonl


def _rows(name: str) -> list[dict]:
    return read_jsonl(packaged_data(name))


def test_every_line_has_text_and_a_known_flag() -> None:
    # GIVEN the training and the held-out flag files
    for name in (FLAG_TRAIN_FILE, FLAG_EVAL_FILE):
        rows = _rows(name)
        # THEN every line has text and one of the flag labels, and every label is present
        assert all(r["text"].strip() and r["flag"] in (NO_FLAG, *FLAGS) for r in rows), name
        assert set(Counter(r["flag"] for r in rows)) == {NO_FLAG, *FLAGS}, name


def test_no_held_out_line_is_a_near_copy_of_a_training_line() -> None:
    # GIVEN both files
    train = [r["text"].lower() for r in _rows(FLAG_TRAIN_FILE)]
    held_out = [r["text"].lower() for r in _rows(FLAG_EVAL_FILE)]
    # WHEN every held-out line is compared with every training line
    closest = {
        text: max(difflib.SequenceMatcher(None, text, other).ratio() for other in train) for text in held_out
    }
    # THEN none is closer than 0.7 (difflib ratio), the bar the other own data sets use
    too_close = {text: round(ratio, 2) for text, ratio in closest.items() if ratio >= 0.7}
    assert not too_close, too_close
