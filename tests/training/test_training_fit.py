"""Ensemble members on different views of the training sources (FitConfig.source_views):
the per-member weights, and that the views make the members disagree where only one source
taught the head."""

from __future__ import annotations

import numpy as np
import pytest

from ticketlens.training.fit import (
    SOURCE_DROP_WEIGHT,
    FitConfig,
    build_head,
    fit_ensemble,
    source_view_weights,
)


def _sources() -> np.ndarray:
    """Eight rows from five sources of different sizes."""
    return np.array(["a", "a", "b", "c", "c", "c", "d", "e"])


def test_same_view_is_all_ones() -> None:
    # GIVEN rows from five sources
    sources = _sources()
    # WHEN three members get the "same" view
    views = source_view_weights(sources, "same", 3, seed=0)
    # THEN every member weighs every row 1
    assert len(views) == 3 and all((v == 1).all() for v in views)


def test_drop_view_down_weights_each_source_in_exactly_one_member() -> None:
    # GIVEN rows from five sources and three members
    sources = _sources()
    # WHEN the "drop" views are drawn
    views = np.stack(source_view_weights(sources, "drop", 3, seed=4))
    # THEN each row is down-weighted by exactly one member, to the drop weight
    assert ((views == SOURCE_DROP_WEIGHT).sum(axis=0) == 1).all()
    np.testing.assert_allclose(np.unique(views), [SOURCE_DROP_WEIGHT, 1.0])
    # AND rows of one source share their weights, and every member keeps some source whole
    for source in set(sources.tolist()):
        rows = views[:, sources == source]
        assert (rows == rows[:, :1]).all()
    assert (views == 1).any(axis=1).all()
    # AND the same seed deals the same groups
    np.testing.assert_array_equal(views, np.stack(source_view_weights(sources, "drop", 3, seed=4)))


def test_dirichlet_view_weighs_each_source_with_mean_one_and_differs_by_member() -> None:
    # GIVEN rows from five sources and three members
    sources = _sources()
    # WHEN the "dirichlet" views are drawn
    views = source_view_weights(sources, "dirichlet", 3, seed=1)
    names = sorted(set(sources.tolist()))
    for v in views:
        # THEN within a member a source's rows share one positive weight, averaging 1 over sources
        per_source = [float(v[sources == s][0]) for s in names]
        assert all(w > 0 for w in per_source) and np.mean(per_source) == pytest.approx(1.0, rel=1e-5)
        assert all((v[sources == s] == v[sources == s][0]).all() for s in names)
    # AND the members' views differ
    assert not np.allclose(views[0], views[1])


def test_fit_ensemble_refuses_source_views_without_sources() -> None:
    # GIVEN a config asking for source views
    cfg = FitConfig(hidden=4, epochs=1, ensemble=2, source_views="drop")
    x, y = np.zeros((6, 2), np.float32), np.array([0, 1, 0, 1, 0, 1])
    # WHEN fitted without the rows' sources, THEN it says what is missing
    with pytest.raises(ValueError, match="source of every training row"):
        fit_ensemble(x, y, 2, cfg)


def test_same_view_with_sources_fits_exactly_as_without() -> None:
    # GIVEN a small problem and the default ("same") view
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(int)
    cfg = FitConfig(hidden=8, epochs=3, ensemble=2)
    # WHEN fitted with and without the rows' sources
    with_sources, _ = fit_ensemble(x, y, 2, cfg, sources=np.array(["a", "b"] * 30))
    without, _ = fit_ensemble(x, y, 2, cfg)
    # THEN the networks are identical (the shipped heads do not move while the option is off)
    for p, q in zip(with_sources, without, strict=True):
        np.testing.assert_array_equal(p, q)


def _two_source_problem() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sources a and b share classes 0/1 on the first axis; only source c teaches class 2, on
    the second axis. Returns (x, y, sources, probe rows where only c's data decides)."""
    rng = np.random.default_rng(3)
    n = 300
    shared = rng.normal(size=(2 * n, 2)).astype(np.float32) * 0.5
    shared[:, 0] += np.where(np.arange(2 * n) % 2 == 0, 2.0, -2.0)
    y_shared = (np.arange(2 * n) % 2).astype(int)
    only_c = rng.normal(size=(n // 2, 2)).astype(np.float32) * 0.5
    only_c[:, 1] += 3.0
    x = np.concatenate([shared, only_c])
    y = np.concatenate([y_shared, np.full(n // 2, 2)])
    sources = np.array(["a"] * n + ["b"] * n + ["c"] * (n // 2))
    probe = rng.normal(size=(200, 2)).astype(np.float32) * 0.5 + np.array([0.0, 3.0], np.float32)
    return x, y, sources, probe


@pytest.mark.parametrize("views", ["drop", "dirichlet"])
def test_source_views_make_members_disagree_where_one_source_decides(views: str) -> None:
    # GIVEN a class that only one of three sources teaches
    x, y, sources, probe = _two_source_problem()

    def disagreement(cfg: FitConfig) -> float:
        params, info = fit_ensemble(x, y, 3, cfg, sources=sources)
        head = build_head("intent", ["x", "y", "z"], ["embedding"], np.zeros(2), np.ones(2), params, 1.0)
        head.members = info["members"]
        return float(head.disagreement(probe).mean())

    base = FitConfig(hidden=16, epochs=10, ensemble=3, seed=2)
    # WHEN the members see the same rows, or each its own view of the sources
    same = disagreement(base)
    viewed = disagreement(FitConfig(hidden=16, epochs=10, ensemble=3, seed=2, source_views=views))  # type: ignore[arg-type]
    # THEN on rows that only source c decides, the viewed members disagree half as much again
    assert viewed > 1.5 * same, (same, viewed)
