"""The torch-free graphs are torch's export and onnxruntime's fusion of it (the `reference` extra)."""

from __future__ import annotations

import importlib.metadata as md
from pathlib import Path

import pytest

from ticketlens.models.build import source_model_dir

pytestmark = pytest.mark.slow


def _mirrored_versions_or_skip(mirrors: dict[str, str]) -> None:
    for dist, wanted in mirrors.items():
        try:
            have = md.version(dist)
        except md.PackageNotFoundError:
            pytest.skip(f"{dist} is not installed (the reference extra; `make test` installs it)")
        if have.split("+")[0] != wanted:
            pytest.skip(f"the graph writer mirrors {dist} {wanted}; {have} is installed")


def test_graph_writer_matches_torch_export_node_for_node(tmp_path: Path) -> None:
    from ticketlens.models.reference import EXPORT_MIRRORS

    _mirrored_versions_or_skip(EXPORT_MIRRORS)
    import onnx

    from ticketlens.models._bert_graph import bert_graph
    from ticketlens.models.reference import export_with_torch

    # GIVEN the token-states graph exported by torch from the same weights
    export_with_torch(source_model_dir(), tmp_path / "torch.onnx")
    exported = onnx.load(str(tmp_path / "torch.onnx"))
    # WHEN the torch-free writer builds it
    written = bert_graph(source_model_dir())
    # THEN nodes, weights and signature are the same, in the same order, byte for byte
    assert len(written.graph.node) == len(exported.graph.node)
    for ours, theirs in zip(written.graph.node, exported.graph.node, strict=True):
        assert ours.SerializeToString() == theirs.SerializeToString(), (ours.name, theirs.name)
    assert [t.name for t in written.graph.initializer] == [t.name for t in exported.graph.initializer]
    for ours, theirs in zip(written.graph.initializer, exported.graph.initializer, strict=True):
        assert ours.SerializeToString() == theirs.SerializeToString(), ours.name
    for field in ("input", "output"):
        assert [v.SerializeToString() for v in getattr(written.graph, field)] == [
            v.SerializeToString() for v in getattr(exported.graph, field)
        ]
    assert (written.ir_version, list(written.opset_import)) == (exported.ir_version, list(exported.opset_import))


def test_fused_writer_matches_onnxruntime_fusion_byte_for_byte(tmp_path: Path) -> None:
    from ticketlens.models.reference import FUSION_MIRRORS

    _mirrored_versions_or_skip(FUSION_MIRRORS)
    pytest.importorskip("sympy", reason="onnxruntime's fusion needs sympy (torch brings it: the reference extra)")
    from ticketlens.models.build import write_graph
    from ticketlens.models.reference import fuse_with_onnxruntime

    # GIVEN onnxruntime's transformer fusion of the torch-form graph
    write_graph(source_model_dir(), tmp_path / "raw.onnx", fused=False)
    fuse_with_onnxruntime(tmp_path / "raw.onnx", tmp_path / "fused-by-onnxruntime.onnx")
    # WHEN the fused graph is written directly
    write_graph(source_model_dir(), tmp_path / "fused-written.onnx", fused=True)
    # THEN the two files are the same bytes
    by_onnxruntime = (tmp_path / "fused-by-onnxruntime.onnx").read_bytes()
    assert (tmp_path / "fused-written.onnx").read_bytes() == by_onnxruntime
