"""The fused BERT graph the runtime loads (`model.onnx`), written straight from the weights.

It is the graph onnxruntime's transformer optimizer (`optimize_model(model_type="bert")`,
onnxruntime 1.32) makes of the torch-form graph in `_bert_graph`: one EmbedLayerNormalization,
then per layer an Attention with packed QKV weights, SkipLayerNormalization with the dense
bias folded in, and BiasGelu (com.microsoft contrib ops). Written directly, the build needs
neither the optimizer nor its sympy-based shape inference, and the file is byte-identical to
the optimizer's, producer fields included. `tests/models/test_reference.py` checks it
against the optimizer's output where the reference extra (which brings sympy) is installed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from ticketlens.models._bert_graph import (
    INPUTS,
    IR_VERSION,
    OPSET,
    OUTPUT,
    BertConfig,
    matmul_weight_names,
    read_weights,
)

# What the optimizer writes into the files it saves (and so what the shipped file carries).
PRODUCER = ("onnxruntime.transformers", "1.32.0")
CONTRIB = "com.microsoft"


def fused_bert_graph(folder: Path) -> onnx.ModelProto:
    """The onnxruntime-fused token-states graph of the BERT model in `folder`."""
    config = BertConfig.from_folder(folder)
    weights = read_weights(folder)
    nodes = [
        helper.make_node("Cast", ["attention_mask"], ["/bert/Cast_output_0_int32"], to=TensorProto.INT32),
        helper.make_node("Cast", ["input_ids"], ["input_ids_int32"], to=TensorProto.INT32),
        helper.make_node("Cast", ["token_type_ids"], ["token_type_ids_int32"], to=TensorProto.INT32),
    ]
    embeddings = [f"bert.embeddings.{name}" for name in (
        "word_embeddings.weight", "position_embeddings.weight", "token_type_embeddings.weight",
        "LayerNorm.weight", "LayerNorm.bias",
    )]
    hidden, mask = "EmbedLayerNormalization_0_output", "EmbedLayerNormalization_0_dummy_mask_index"
    nodes.append(helper.make_node(
        "EmbedLayerNormalization",
        ["input_ids_int32", "token_type_ids_int32", *embeddings, "/bert/Cast_output_0_int32"],
        [hidden, mask],
        name="EmbedLayerNormalization_0", domain=CONTRIB, epsilon=config.epsilon,
    ))
    named = [*embeddings]
    dense: list[onnx.TensorProto] = []
    packed: list[onnx.TensorProto] = []
    for i in range(config.layers):
        scope, p = f"/bert/encoder/layer.{i}", f"bert.encoder.layer.{i}"
        matmul = matmul_weight_names(i)
        last = i == config.layers - 1

        context = f"{scope}/attention/self/Reshape_3_output_0"
        attended = f"{scope}/attention/output/LayerNorm/LayerNormalization_output_0"
        inner = f"{scope}/intermediate/dense/MatMul_output_0"
        gelu = f"{scope}/intermediate/intermediate_act_fn/Mul_1_output_0"
        out = OUTPUT if last else f"{scope}/output/LayerNorm/LayerNormalization_output_0"
        nodes += [
            helper.make_node(
                "Attention", [hidden, f"Attention_{i}_qkv_weight", f"Attention_{i}_qkv_bias", mask], [context],
                name=f"Attention_{i}", domain=CONTRIB, num_heads=config.heads,
            ),
            _matmul(f"{scope}/attention/output/dense", context, matmul["attention"]),
            _skip_layer_norm(2 * i, f"{scope}/attention/output/dense/MatMul_output_0", hidden,
                             f"{p}.attention.output", attended, config.epsilon),
            _matmul(f"{scope}/intermediate/dense", attended, matmul["intermediate"]),
            helper.make_node("BiasGelu", [inner, f"{p}.intermediate.dense.bias"], [gelu], name=f"Gelu_AddBias_{i}",
                             domain=CONTRIB),
            _matmul(f"{scope}/output/dense", gelu, matmul["output"]),
            _skip_layer_norm(2 * i + 1, f"{scope}/output/dense/MatMul_output_0", attended, f"{p}.output", out,
                             config.epsilon),
        ]
        hidden = out
        named += [f"{p}.attention.output.dense.bias", f"{p}.attention.output.LayerNorm.weight",
                  f"{p}.attention.output.LayerNorm.bias", f"{p}.intermediate.dense.bias", f"{p}.output.dense.bias",
                  f"{p}.output.LayerNorm.weight", f"{p}.output.LayerNorm.bias"]
        dense += [numpy_helper.from_array(weights[matmul[role]], matmul[role])
                  for role in ("attention", "intermediate", "output")]
        qkv = ("query", "key", "value")
        packed_weight = np.concatenate([weights[matmul[m]] for m in qkv], axis=1)  # (384, 3 * 384)
        packed_bias = np.concatenate([weights[f"{p}.attention.self.{m}.bias"] for m in qkv])
        packed += [
            numpy_helper.from_array(packed_weight, f"Attention_{i}_qkv_weight"),
            numpy_helper.from_array(packed_bias, f"Attention_{i}_qkv_bias"),
        ]

    dynamic = ["batch", "tokens"]
    graph = helper.make_graph(
        nodes,
        "main_graph",
        [helper.make_tensor_value_info(name, TensorProto.INT64, dynamic) for name in INPUTS],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, [*dynamic, config.hidden])],
        [numpy_helper.from_array(weights[name], name) for name in named] + dense + packed,
    )
    opsets = [onnx.OperatorSetIdProto(version=OPSET), helper.make_opsetid(CONTRIB, 1)]
    model = helper.make_model(graph, opset_imports=opsets, ir_version=IR_VERSION)
    model.producer_name, model.producer_version = PRODUCER
    return model


def _skip_layer_norm(k: int, x: str, residual: str, module: str, output: str, epsilon: float) -> onnx.NodeProto:
    params = [f"{module}.LayerNorm.weight", f"{module}.LayerNorm.bias", f"{module}.dense.bias"]
    return helper.make_node(
        "SkipLayerNormalization", [x, residual, *params], [output],
        name=f"SkipLayerNorm_AddBias_{k}", domain=CONTRIB, epsilon=epsilon,
    )


def _matmul(scope: str, x: str, weight: str) -> onnx.NodeProto:
    return helper.make_node("MatMul", [x, weight], [f"{scope}/MatMul_output_0"], name=f"{scope}/MatMul")
