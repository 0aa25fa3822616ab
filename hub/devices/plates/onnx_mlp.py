"""Write a multilayer perceptron as an ONNX file that cv2.dnn reads, without the onnx
package: the few protobuf messages it needs, encoded by hand.

The graph is x[N, F] → (Gemm → Relu)* → Gemm → Softmax → prob[N, C]; the weights are float32
raw tensors. Only the training script writes it; the reader loads it with
cv2.dnn.readNetFromONNX.
"""

from __future__ import annotations

import struct

import numpy as np
from numpy.typing import NDArray

_FLOAT = 1  # TensorProto.DataType FLOAT and AttributeProto.AttributeType FLOAT
_INT = 2    # AttributeProto.AttributeType INT


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


def _value_info(name: str, width: int) -> bytes:
    shape = _bytes(1, _str(2, "N")) + _bytes(1, _int(1, width))
    tensor_type = _int(1, _FLOAT) + _bytes(2, shape)
    return _str(1, name) + _bytes(2, _bytes(1, tensor_type))


def _node(op: str, inputs: list[str], output: str, attrs: bytes = b"") -> bytes:
    return (b"".join(_str(1, i) for i in inputs) + _str(2, output) + _str(3, output)
            + _str(4, op) + attrs)


def _attr_int(name: str, value: int) -> bytes:
    return _bytes(5, _str(1, name) + _int(3, value) + _int(20, _INT))


def _attr_float(name: str, value: float) -> bytes:
    return _bytes(5, _str(1, name) + _key(2, 5) + struct.pack("<f", value) + _int(20, _FLOAT))


def mlp_onnx(layers: list[tuple[NDArray[np.float32], NDArray[np.float32]]]) -> bytes:
    """layers: (W of shape [out, in], b of shape [out]) each; ReLU between them, softmax at
    the end. Returns the ModelProto bytes."""
    nodes, inits = [], []
    current = "x"
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
    graph = (b"".join(_bytes(1, n) for n in nodes) + _str(2, "plate_chars")
             + b"".join(_bytes(5, t) for t in inits)
             + _bytes(11, _value_info("x", int(layers[0][0].shape[1])))
             + _bytes(12, _value_info("prob", int(layers[-1][0].shape[0]))))
    opset = _str(1, "") + _int(2, 13)
    return (_int(1, 7) + _str(2, "estate-hub train_plate_reader") + _bytes(7, graph)
            + _bytes(8, opset))
