"""`ticketlens eval` without --labels reproduces, from the shipped heads alone, every
validation figure `ticketlens train` wrote into the metrics files (docs/quality.md quotes them)."""

from __future__ import annotations

import json

import pytest

from ticketlens.cli import main
from ticketlens.enrichment.heads import packaged_head_path
from ticketlens.training.data import find_data_dir

pytestmark = pytest.mark.slow


def _data_dir_or_skip() -> str:
    try:
        return str(find_data_dir(None))
    except FileNotFoundError:
        pytest.skip("the public datasets (shared/datasets) are not beside this checkout; set TICKETLENS_DATASETS")


@pytest.mark.parametrize("kind", ["intent", "sentiment", "flag"])
def test_eval_reproduces_the_metrics_file(kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN the shipped head and the metrics its training run wrote
    data_dir = _data_dir_or_skip()
    path = packaged_head_path(kind)  # type: ignore[arg-type]
    written = json.loads(path.with_name(f"{kind}.metrics.json").read_text(encoding="utf-8"))
    # WHEN the head is scored on the default validation splits
    assert main(["eval", "--head", kind, "--data-dir", data_dir, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    # THEN it is the same head, with the same groups and the same figures
    assert report["version"] == written["version"]
    assert report["val"].keys() == written["val"].keys()
    for group, figures in written["val"].items():
        for key in ("n", "accuracy", "macro_f1", "ece", "ece_noise_floor", "precision", "recall", "flagged",
                    "false_flags"):
            if key in figures:
                assert report["val"][group][key] == pytest.approx(figures[key], abs=2e-4), (group, key)
