"""The interface every inference backend implements: padded token arrays in, label logits out.

A backend replaces only the numeric forward pass of the model. Tokenizing,
windows for long passages, (passage, context) pairs, batching and padding,
window averaging and temperature scaling stay in
:class:`framing.inference.Predictor`, so every backend scores exactly the same
inputs and only the arithmetic differs.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from ..errors import FramingError

# Names a user can ask for. "torch" follows ``precision`` (auto: framing.hardware's measurement);
# the others are fixed configurations that `framing bench` measures one by one.
TORCH_BACKENDS = ("torch", "torch-fp32", "torch-bf16")
ONNX_BACKENDS = ("onnx", "onnx-int8")
OPENVINO_BACKENDS = ("openvino", "openvino-bf16", "openvino-int8")
BACKENDS = ("auto", *TORCH_BACKENDS, *ONNX_BACKENDS, *OPENVINO_BACKENDS)
# The configurations `framing bench` measures (every name but "auto" and the precision-following "torch").
MEASURED = ("torch-fp32", "torch-bf16", *ONNX_BACKENDS, *OPENVINO_BACKENDS)
REFERENCE = "torch-fp32"  # what the faithfulness gate compares with
EXTRA = {**{b: "onnx" for b in ONNX_BACKENDS}, **{b: "openvino" for b in OPENVINO_BACKENDS}}


class BackendError(FramingError, ValueError):
    """An unknown backend, or one whose packages are not installed (the message names the extra)."""


class Backend(Protocol):
    """Computes label logits for one padded batch.

    ``input_ids``, ``attention_mask`` and ``pool_mask`` are int64 arrays of shape
    (batch, width); ``pool_mask`` is 1 on the passage's own tokens (None: the
    whole attended sequence, i.e. no context). Returns float32 (batch, labels).
    """

    name: str

    def logits(self, input_ids: np.ndarray, attention_mask: np.ndarray,
               pool_mask: np.ndarray | None) -> np.ndarray: ...


def check_name(name: str) -> str:
    """``name`` if it is a known backend, else a :class:`BackendError` listing the known ones."""
    if name not in BACKENDS:
        raise BackendError(f"unknown backend {name!r}: use one of {', '.join(BACKENDS)}")
    return name


def require(name: str, module: str) -> None:
    """Raise a :class:`BackendError` naming the extra to install for ``name`` unless ``module`` is installed
    (found, not imported: some of these take seconds to import and are needed only to export)."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise BackendError(f"backend {name!r} needs the {module} package: pip install "
                           f"\"framing[{EXTRA.get(name, name)}]\"") from None


def is_installed(name: str) -> bool:
    """True when the packages ``name`` needs are importable (torch backends always are)."""
    import importlib.util

    modules = {"onnx": ("onnx", "onnxruntime", "onnxscript"), "openvino": ("onnx", "onnxscript", "openvino")}
    return all(importlib.util.find_spec(m) is not None for m in modules.get(EXTRA.get(name, ""), ()))
