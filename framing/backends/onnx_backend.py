"""The ONNX Runtime backends: the exported fp32 graph (``onnx``) and its dynamic int8 quantization
(``onnx-int8``), see :mod:`framing.backends.export`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from .base import require
from .export import ensure_export, export_onnx, quantize_int8

PROVIDERS = ["CPUExecutionProvider"]


def onnx_export(model_dir: Path, load_model: Callable[[], object]) -> Path:
    """The directory of the fp32 ONNX export of ``model_dir`` (exported from ``load_model()`` once)."""
    return ensure_export(model_dir, "onnx", lambda tmp: export_onnx(load_model(), tmp))


def int8_export(model_dir: Path, load_model: Callable[[], object]) -> Path:
    """The directory of the dynamically quantized int8 export (from the fp32 export)."""
    fp32 = onnx_export(model_dir, load_model)
    return ensure_export(model_dir, "onnx-int8", lambda tmp: quantize_int8(fp32, tmp))


def threads() -> int:
    """Intra-op threads: torch's count (which follows ``OMP_NUM_THREADS``), so backends compare alike."""
    import torch

    return torch.get_num_threads()


class OnnxBackend:
    """An ONNX Runtime CPU session over ``model.onnx`` (thread-safe: ``run`` may be called concurrently)."""

    def __init__(self, name: str, onnx_dir: Path):
        require(name, "onnxruntime")
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads()
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3  # warnings about unused initializers etc. are not the user's business
        self.name, self.dir = name, onnx_dir
        self.session = ort.InferenceSession(str(onnx_dir / "model.onnx"), opts, providers=PROVIDERS)

    def logits(self, input_ids: np.ndarray, attention_mask: np.ndarray,
               pool_mask: np.ndarray | None) -> np.ndarray:
        feed = {"input_ids": input_ids, "attention_mask": attention_mask,
                "pool_mask": attention_mask if pool_mask is None else pool_mask}
        return np.asarray(self.session.run(None, feed)[0], dtype=np.float32)


def load(name: str, model_dir: Path, load_model: Callable[[], object]) -> OnnxBackend:
    """``onnx`` or ``onnx-int8`` for ``model_dir`` (exporting first if need be)."""
    for module in ("onnx", "onnxscript", "onnxruntime"):
        require(name, module)
    folder = int8_export(model_dir, load_model) if name == "onnx-int8" else onnx_export(model_dir, load_model)
    return OnnxBackend(name, folder)
