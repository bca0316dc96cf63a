"""The BERT token-states graph, written with `onnx.helper` straight from the safetensors weights.

No torch, no transformers: the graph is the one `torch.onnx.export` (TorchScript, opset 17)
gives for transformers' `BertModel` with eager attention, node for node and name for name,
so that onnxruntime's fusion and quantisation turn it into byte-identical `model.onnx` and
`model-int8.onnx` files (the `model_version` every head and figure refers to). Names are
labels only; they follow that exporter's scheme: `{module path}/{Op}_{k}` per module, and
for the few values it left unscoped, its global value ids (`Constant_258` → `onnx::Unsqueeze_214`),
which step by a fixed amount per layer. `tests/models/test_reference.py` checks this graph
against the torch export node by node when the `reference` extra is installed.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import load_file

OPSET = 17
IR_VERSION = 8
OUTPUT = "token_states"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")

# The torch exporter's ids for MiniLM-L6: where its unscoped names start, and how far its node
# and value counters move per encoder layer (71 and 84: traced nodes, most folded away).
_POSITION_IDS_NODE, _POSITION_IDS_VALUE = 163, 110
_LAYER_CONSTANT_BASE, _LAYER_CONSTANT_STEP = 258, 71
_LAYER_VALUE_BASE, _LAYER_VALUE_STEP = 214, 84
# Offsets inside a layer of the eight unscoped [0] axes (two per Unsqueeze pair).
_LAYER_CONSTANT_OFFSETS = (0, 2, 7, 9, 14, 16, 38, 40)
_LAYER_VALUE_OFFSETS = (0, 2, 9, 11, 18, 20, 46, 48)
# Transposed dense weights: first id, step per layer, and offsets of q, k, v, attention
# output, intermediate, output.
_MATMUL_BASE, _MATMUL_STEP = 714, 13
_MATMUL_OFFSETS = {"query": 0, "key": 7, "value": 8, "attention": 10, "intermediate": 11, "output": 12}
_DENSE_MODULES = {
    "query": "attention.self.query",
    "key": "attention.self.key",
    "value": "attention.self.value",
    "attention": "attention.output.dense",
    "intermediate": "intermediate.dense",
    "output": "output.dense",
}


@dataclass(frozen=True)
class BertConfig:
    """The geometry the graph needs, read from the model folder's config.json."""

    layers: int
    hidden: int
    heads: int
    epsilon: float

    @classmethod
    def from_folder(cls, folder: Path) -> BertConfig:
        raw = json.loads((folder / "config.json").read_text())
        return cls(
            layers=int(raw["num_hidden_layers"]),
            hidden=int(raw["hidden_size"]),
            heads=int(raw["num_attention_heads"]),
            epsilon=float(raw["layer_norm_eps"]),
        )

    @property
    def head_width(self) -> int:
        return self.hidden // self.heads


class _Writer:
    """Appends nodes named the way the torch exporter names them: per scope and op type."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self._counts: Counter[tuple[str, str]] = Counter()

    def op(self, scope: str, op_type: str, inputs: list[str], output: str | None = None, **attrs: object) -> str:
        index = self._counts[(scope, op_type)]
        self._counts[(scope, op_type)] += 1
        name = f"{scope}/{op_type}" + (f"_{index}" if index else "")
        output = output or f"{name}_output_0"
        self.nodes.append(helper.make_node(op_type, inputs, [output], name=name, **attrs))
        return output

    def const(self, scope: str, value: np.ndarray) -> str:
        return self.op(scope, "Constant", [], value=numpy_helper.from_array(value))

    def unscoped_const(self, node_id: int, consumer: str, value_id: int, value: np.ndarray) -> str:
        output = f"onnx::{consumer}_{value_id}"
        tensor = numpy_helper.from_array(value)
        self.nodes.append(helper.make_node("Constant", [], [output], name=f"Constant_{node_id}", value=tensor))
        return output

    def dim(self, scope: str, x: str, axis: int) -> str:
        """One dimension of x's shape, as a scalar."""
        return self.op(scope, "Gather", [self.op(scope, "Shape", [x]), self.const(scope, _scalar_i64(axis))], axis=0)

    def dense(self, scope: str, x: str, weight: str, bias: str) -> str:
        return self.op(scope, "Add", [bias, self.op(scope, "MatMul", [x, weight])])

    def layer_norm(self, scope: str, x: str, param: str, epsilon: float, output: str | None = None) -> str:
        inputs = [x, f"{param}.weight", f"{param}.bias"]
        return self.op(f"{scope}/LayerNorm", "LayerNormalization", inputs, output, axis=-1, epsilon=epsilon)


def _i64(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def _scalar_i64(value: int) -> np.ndarray:
    return np.array(value, dtype=np.int64)


def _scalar_f32(value: float) -> np.ndarray:
    return np.array(value, dtype=np.float32)


def _embeddings(w: _Writer, config: BertConfig, max_positions: int) -> str:
    scope = "/bert/embeddings"
    seq = w.dim(scope, "input_ids", 1)
    position_ids = w.unscoped_const(
        _POSITION_IDS_NODE, "Slice", _POSITION_IDS_VALUE, np.arange(max_positions, dtype=np.int64)[None, :]
    )
    axes, starts = w.const(scope, _i64(1)), w.const(scope, _i64(0))
    ends = w.op(scope, "Unsqueeze", [seq, w.const(scope, _i64(0))])
    positions = w.op(scope, "Slice", [position_ids, starts, ends, axes, w.const(scope, _i64(1))])
    words = w.op(f"{scope}/word_embeddings", "Gather", ["bert.embeddings.word_embeddings.weight", "input_ids"])
    types = w.op(
        f"{scope}/token_type_embeddings", "Gather", ["bert.embeddings.token_type_embeddings.weight", "token_type_ids"]
    )
    summed = w.op(scope, "Add", [words, types])
    position = w.op(f"{scope}/position_embeddings", "Gather", ["bert.embeddings.position_embeddings.weight", positions])
    summed = w.op(scope, "Add", [summed, position])
    return w.layer_norm(scope, summed, "bert.embeddings.LayerNorm", config.epsilon)


@dataclass(frozen=True)
class _Mask:
    """The additive attention mask and the batch/sequence sizes layer 0 reuses."""

    additive: str
    batch: str
    seq: str


def _attention_mask(w: _Writer, hidden: str) -> _Mask:
    """transformers' padding mask as traced: (batch, 1, q, k) of 0 or float32 min."""
    s = "/bert"
    mask = w.op(s, "Cast", ["attention_mask"], to=TensorProto.BOOL)
    seq, kv_len, batch = w.dim(s, hidden, 1), w.dim(s, mask, 1), w.dim(s, hidden, 0)
    ranges = []
    for size in (batch, seq, kv_len):
        limit = w.op(s, "Cast", [size], to=TensorProto.INT64)
        ranges.append(w.op(s, "Range", [w.const(s, _scalar_i64(0)), limit, w.const(s, _scalar_i64(1))]))
    batch_idx, q_idx, kv_idx = ranges
    for axis in (1, 2, 3):
        batch_idx = w.op(s, "Unsqueeze", [batch_idx, w.const(s, _i64(axis))])
    for axis in (0, 1, 3):
        q_idx = w.op(s, "Unsqueeze", [q_idx, w.const(s, _i64(axis))])
    for axis in (0, 1, 2):
        kv_idx = w.op(s, "Unsqueeze", [kv_idx, w.const(s, _i64(axis))])
    allowed = w.op(
        s, "ConstantOfShape", [w.const(s, np.zeros(0, dtype=np.int64))], value=numpy_helper.from_array(np.array([True]))
    )
    in_range = w.op(s, "Cast", [w.op(s, "GreaterOrEqual", [q_idx, w.const(s, _scalar_i64(0))])], to=TensorProto.BOOL)
    allowed = w.op(s, "And", [allowed, in_range])
    width = w.op(s, "Gather", [w.op(s, "Shape", [mask]), w.const(s, _i64(1))], axis=0)
    flat = w.op(s, "Flatten", [mask], axis=2)
    index = w.op(s, "Add", [kv_idx, w.op(s, "Mul", [batch_idx, width])])
    picked = w.op(s, "Gather", [flat, index], axis=0)
    index_shape = w.op(s, "Shape", [index])
    picked = w.op(s, "Reshape", [picked, w.const(s, _i64(-1))], allowzero=0)
    picked = w.op(s, "Reshape", [picked, w.op(s, "Concat", [index_shape], axis=0)], allowzero=0)
    allowed = w.op(s, "And", [allowed, w.op(s, "Cast", [picked], to=TensorProto.BOOL)])
    dims = [w.op(s, "Unsqueeze", [batch, w.const(s, _i64(0))]), w.const(s, _i64(-1))]
    dims += [w.op(s, "Unsqueeze", [size, w.const(s, _i64(0))]) for size in (seq, kv_len)]
    target = w.op(s, "Reshape", [w.op(s, "Concat", dims, axis=0), w.const(s, _i64(-1))], allowzero=0)
    ones = w.op(s, "ConstantOfShape", [w.op(s, "Shape", [target])], value=numpy_helper.from_array(_i64(1)))
    keep = w.op(s, "Equal", [target, w.op(s, "Mul", [ones, w.const(s, _scalar_i64(-1))])])
    target = w.op(s, "Where", [keep, ones, target])
    allowed = w.op(s, "Expand", [allowed, target])
    zero, lowest = w.const(s, _scalar_f32(0.0)), w.const(s, _scalar_f32(float(np.finfo(np.float32).min)))
    return _Mask(additive=w.op(s, "Where", [allowed, zero, lowest]), batch=batch, seq=seq)


def _layer(w: _Writer, config: BertConfig, index: int, x: str, mask: _Mask, output: str | None) -> str:
    p = f"bert.encoder.layer.{index}"
    scope = f"/bert/encoder/layer.{index}"
    self_scope = f"{scope}/attention/self"
    matmul = matmul_weight_names(index)
    if index == 0:
        batch, seq = mask.batch, mask.seq  # the exporter shared these with the mask's sizes
    else:
        batch, seq = w.dim(self_scope, x, 0), w.dim(self_scope, x, 1)
    node_ids = iter(_LAYER_CONSTANT_BASE + _LAYER_CONSTANT_STEP * index + k for k in _LAYER_CONSTANT_OFFSETS)
    value_ids = iter(_LAYER_VALUE_BASE + _LAYER_VALUE_STEP * index + k for k in _LAYER_VALUE_OFFSETS)

    def sizes() -> list[str]:
        axes = (w.unscoped_const(next(node_ids), "Unsqueeze", next(value_ids), _i64(0)) for _ in range(2))
        return [w.op(self_scope, "Unsqueeze", [size, axis]) for size, axis in zip((batch, seq), axes, strict=True)]

    def heads_shape() -> str:
        dims = [*sizes(), w.const(self_scope, _i64(-1)), w.const(self_scope, _i64(config.head_width))]
        return w.op(self_scope, "Concat", dims, axis=0)

    def split_heads(x: str, shape: str) -> str:
        return w.op(self_scope, "Reshape", [x, shape], allowzero=0)

    query = w.dense(f"{self_scope}/query", x, matmul["query"], f"{p}.attention.self.query.bias")
    q_shape, k_shape, v_shape = heads_shape(), heads_shape(), heads_shape()
    query = w.op(self_scope, "Transpose", [split_heads(query, q_shape)], perm=[0, 2, 1, 3])
    key = split_heads(w.dense(f"{self_scope}/key", x, matmul["key"], f"{p}.attention.self.key.bias"), k_shape)
    value = w.dense(f"{self_scope}/value", x, matmul["value"], f"{p}.attention.self.value.bias")
    value = w.op(self_scope, "Transpose", [split_heads(value, v_shape)], perm=[0, 2, 1, 3])
    key = w.op(self_scope, "Transpose", [key], perm=[0, 2, 3, 1])
    scores = w.op(self_scope, "MatMul", [query, key])
    scale = w.const(self_scope, _scalar_f32(config.head_width**-0.5))
    scores = w.op(self_scope, "Add", [w.op(self_scope, "Mul", [scores, scale]), mask.additive])
    probs = w.op(self_scope, "Softmax", [scores], axis=-1)
    context = w.op(self_scope, "Transpose", [w.op(self_scope, "MatMul", [probs, value])], perm=[0, 2, 1, 3])
    merged = w.op(self_scope, "Concat", [*sizes(), w.const(self_scope, _i64(-1))], axis=0)
    context = w.op(self_scope, "Reshape", [context, merged], allowzero=0)

    out_scope = f"{scope}/attention/output"
    attended = w.dense(f"{out_scope}/dense", context, matmul["attention"], f"{p}.attention.output.dense.bias")
    attended = w.op(out_scope, "Add", [attended, x])
    attended = w.layer_norm(out_scope, attended, f"{p}.attention.output.LayerNorm", config.epsilon)
    inner = w.dense(f"{scope}/intermediate/dense", attended, matmul["intermediate"], f"{p}.intermediate.dense.bias")
    act = f"{scope}/intermediate/intermediate_act_fn"  # exact GELU: x * (1 + erf(x / sqrt 2)) * 0.5
    erf = w.op(act, "Erf", [w.op(act, "Div", [inner, w.const(act, _scalar_f32(math.sqrt(2.0)))])])
    gelu = w.op(act, "Mul", [inner, w.op(act, "Add", [erf, w.const(act, _scalar_f32(1.0))])])
    gelu = w.op(act, "Mul", [gelu, w.const(act, _scalar_f32(0.5))])
    out = w.dense(f"{scope}/output/dense", gelu, matmul["output"], f"{p}.output.dense.bias")
    out = w.op(f"{scope}/output", "Add", [out, attended])
    return w.layer_norm(f"{scope}/output", out, f"{p}.output.LayerNorm", config.epsilon, output)


def matmul_weight_names(layer: int) -> dict[str, str]:
    """The exporter's names of one layer's transposed dense weights, by role."""
    return {role: f"onnx::MatMul_{_MATMUL_BASE + _MATMUL_STEP * layer + k}" for role, k in _MATMUL_OFFSETS.items()}


def read_weights(folder: Path) -> dict[str, np.ndarray]:
    """The float32 tensors under their graph names: each parameter as `bert.<name>`, and each
    dense weight also transposed for MatMul under its exporter name (`onnx::MatMul_<id>`)."""
    config = BertConfig.from_folder(folder)
    tensors = load_file(str(folder / "model.safetensors"))
    weights: dict[str, np.ndarray] = {}
    for key, array in tensors.items():
        if key == "embeddings.position_ids":
            continue  # an int64 buffer (0, 1, 2, ...), rebuilt as a constant in the graph
        if array.dtype != np.float32:
            raise ValueError(f"{key} is {array.dtype}, expected float32 weights")
        weights[f"bert.{key}"] = array
    for layer in range(config.layers):
        for role, name in matmul_weight_names(layer).items():
            weight = weights[f"bert.encoder.layer.{layer}.{_DENSE_MODULES[role]}.weight"]
            weights[name] = np.ascontiguousarray(weight.T)
    return weights


def _initializers(weights: dict[str, np.ndarray], config: BertConfig) -> list[onnx.TensorProto]:
    """Vectors and embeddings under their parameter names, then the transposed dense weights."""
    named = [f"bert.embeddings.{n}" for n in (
        "word_embeddings.weight", "position_embeddings.weight", "token_type_embeddings.weight",
        "LayerNorm.weight", "LayerNorm.bias",
    )]
    dense: list[str] = []
    for i in range(config.layers):
        p = f"bert.encoder.layer.{i}"
        named += [f"{p}.attention.self.{m}.bias" for m in ("query", "key", "value")]
        named += [f"{p}.attention.output.dense.bias", f"{p}.attention.output.LayerNorm.weight",
                  f"{p}.attention.output.LayerNorm.bias", f"{p}.intermediate.dense.bias", f"{p}.output.dense.bias",
                  f"{p}.output.LayerNorm.weight", f"{p}.output.LayerNorm.bias"]
        dense += matmul_weight_names(i).values()
    return [numpy_helper.from_array(weights[name], name) for name in [*named, *dense]]


def bert_graph(folder: Path) -> onnx.ModelProto:
    """The token-states graph of the BERT model in `folder` (config.json + model.safetensors)."""
    config = BertConfig.from_folder(folder)
    weights = read_weights(folder)
    max_positions = int(weights["bert.embeddings.position_embeddings.weight"].shape[0])
    w = _Writer()
    hidden = _embeddings(w, config, max_positions)
    mask = _attention_mask(w, hidden)
    for index in range(config.layers):
        hidden = _layer(w, config, index, hidden, mask, OUTPUT if index == config.layers - 1 else None)

    dynamic = ["batch", "tokens"]
    graph = helper.make_graph(
        w.nodes,
        "main_graph",
        [helper.make_tensor_value_info(name, TensorProto.INT64, dynamic) for name in INPUTS],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, [*dynamic, config.hidden])],
        _initializers(weights, config),
    )
    # No producer: this graph only lives between writing and quantising; the shipped files
    # name their own.
    opset = onnx.OperatorSetIdProto(version=OPSET)  # default domain left unset, as torch writes it
    return helper.make_model(graph, opset_imports=[opset], ir_version=IR_VERSION)
