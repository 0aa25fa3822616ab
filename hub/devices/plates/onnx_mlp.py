"""Write a small network as an ONNX file that cv2.dnn reads, without the onnx package: the
few protobuf messages it needs, encoded by hand.

Two graphs: a multilayer perceptron, x[N, F] → (Gemm → Relu)* → Gemm → Softmax → prob[N, C]
(`mlp_onnx`), and a convolutional network, x[N, 1, H, W] → (Conv 3×3 → Relu → MaxPool 2)* →
Flatten → (Gemm → Relu)* → Gemm → Softmax → prob[N, C] (`cnn_onnx`). The weights are float32
raw tensors. Only the training script writes them; the reader loads them with
cv2.dnn.readNetFromONNX.
"""

from __future__ import annotations

import struct

import numpy as np
from numpy.typing import NDArray

_FLOAT = 1  # TensorProto.DataType FLOAT and AttributeProto.AttributeType FLOAT
_INT = 2    # AttributeProto.AttributeType INT
_INTS = 7   # AttributeProto.AttributeType INTS


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return _varint(field << 3 | wire)


def _int(field: int, value: int) -> bytes:
    return _key(field, 0) + _varint(value)


def _bytes(field: int, value: bytes) -> bytes:
    return _key(field, 2) + _varint(len(value)) + value


def _str(field: int, value: str) -> bytes:
    return _bytes(field, value.encode())


def _tensor(name: str, array: NDArray[np.float32]) -> bytes:
    dims = b"".join(_int(1, d) for d in array.shape)
    return dims + _int(2, _FLOAT) + _str(8, name) + _bytes(
        9, np.ascontiguousarray(array, dtype="<f4").tobytes())


def _value_info(name: str, *dims: int) -> bytes:
    shape = _bytes(1, _str(2, "N")) + b"".join(_bytes(1, _int(1, d)) for d in dims)
    tensor_type = _int(1, _FLOAT) + _bytes(2, shape)
    return _str(1, name) + _bytes(2, _bytes(1, tensor_type))


def _node(op: str, inputs: list[str], output: str, attrs: bytes = b"") -> bytes:
    return (b"".join(_str(1, i) for i in inputs) + _str(2, output) + _str(3, output)
            + _str(4, op) + attrs)


def _attr_int(name: str, value: int) -> bytes:
    return _bytes(5, _str(1, name) + _int(3, value) + _int(20, _INT))


def _attr_ints(name: str, values: tuple[int, ...]) -> bytes:
    return _bytes(5, _str(1, name) + b"".join(_int(8, v) for v in values) + _int(20, _INTS))


def _attr_float(name: str, value: float) -> bytes:
    return _bytes(5, _str(1, name) + _key(2, 5) + struct.pack("<f", value) + _int(20, _FLOAT))


def _gemm_layers(layers: list[tuple[NDArray[np.float32], NDArray[np.float32]]], current: str,
                 nodes: list[bytes], inits: list[bytes]) -> None:
    """Gemm (→ Relu) per layer, Softmax after the last, into nodes and inits."""
    for i, (weight, bias) in enumerate(layers):
        w_name, b_name, out = f"w{i}", f"b{i}", f"gemm{i}"
        inits += [_tensor(w_name, weight), _tensor(b_name, bias)]
        nodes.append(_node("Gemm", [current, w_name, b_name], out,
                           _attr_int("transB", 1) + _attr_float("alpha", 1.0)
                           + _attr_float("beta", 1.0)))
        current = out
        if i < len(layers) - 1:
            nodes.append(_node("Relu", [current], f"relu{i}"))
            current = f"relu{i}"
    nodes.append(_node("Softmax", [current], "prob", _attr_int("axis", 1)))


def _model(nodes: list[bytes], inits: list[bytes], x_info: bytes, classes: int) -> bytes:
    graph = (b"".join(_bytes(1, n) for n in nodes) + _str(2, "plate_chars")
             + b"".join(_bytes(5, t) for t in inits)
             + _bytes(11, x_info) + _bytes(12, _value_info("prob", classes)))
    opset = _str(1, "") + _int(2, 13)
    return (_int(1, 7) + _str(2, "estate-hub train_plate_reader") + _bytes(7, graph)
            + _bytes(8, opset))


def mlp_onnx(layers: list[tuple[NDArray[np.float32], NDArray[np.float32]]]) -> bytes:
    """layers: (W of shape [out, in], b of shape [out]) each; ReLU between them, softmax at
    the end. Returns the ModelProto bytes."""
    nodes: list[bytes] = []
    inits: list[bytes] = []
    _gemm_layers(layers, "x", nodes, inits)
    return _model(nodes, inits, _value_info("x", int(layers[0][0].shape[1])),
                  int(layers[-1][0].shape[0]))


def cnn_onnx(convs: list[tuple[NDArray[np.float32], NDArray[np.float32]]],
             layers: list[tuple[NDArray[np.float32], NDArray[np.float32]]],
             input_hw: tuple[int, int]) -> bytes:
    """convs: (W of shape [out, in, 3, 3], b of shape [out]) each, every one followed by
    ReLU and a 2×2 max-pool; then the flattened maps into `layers` as in mlp_onnx. The input
    is x[N, convs[0] in-channels, H, W]. Returns the ModelProto bytes."""
    nodes: list[bytes] = []
    inits: list[bytes] = []
    current = "x"
    for i, (weight, bias) in enumerate(convs):
        w_name, b_name = f"cw{i}", f"cb{i}"
        inits += [_tensor(w_name, weight), _tensor(b_name, bias)]
        k = int(weight.shape[2])
        nodes.append(_node("Conv", [current, w_name, b_name], f"conv{i}",
                           _attr_ints("kernel_shape", (k, k))
                           + _attr_ints("pads", (k // 2,) * 4)
                           + _attr_ints("strides", (1, 1))))
        nodes.append(_node("Relu", [f"conv{i}"], f"crelu{i}"))
        nodes.append(_node("MaxPool", [f"crelu{i}"], f"pool{i}",
                           _attr_ints("kernel_shape", (2, 2)) + _attr_ints("strides", (2, 2))))
        current = f"pool{i}"
    nodes.append(_node("Flatten", [current], "flat", _attr_int("axis", 1)))
    _gemm_layers(layers, "flat", nodes, inits)
    return _model(nodes, inits, _value_info("x", int(convs[0][0].shape[1]), *input_hw),
                  int(layers[-1][0].shape[0]))
