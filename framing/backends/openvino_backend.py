"""The OpenVINO backends: the fp32 ONNX export run by OpenVINO (``openvino``, fp32 inference precision
forced, since OpenVINO would otherwise pick bf16 on CPUs that have it; ``openvino-bf16``, bf16 inference
precision, only on CPUs with native bf16, for `framing bench` to gate) and an int8-weight IR
(``openvino-int8``: NNCF weight compression, what optimum-intel's ``load_in_8bit`` does).

optimum-intel itself is not used: every release of it pins a torch and transformers that are not
this project's (``pip install optimum-intel`` would replace torch 2.13 and transformers 5.24).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from .base import BackendError, require
from .export import ensure_export
from .onnx_backend import onnx_export, threads

DEVICE = "CPU"
PRECISION_HINT = {"openvino": "f32", "openvino-int8": "f32", "openvino-bf16": "bf16"}  # bf16: gated by `framing bench`


def _compress(onnx_dir: Path, out_dir: Path) -> None:
    import nncf
    import openvino as ov

    model = ov.Core().read_model(str(onnx_dir / "model.onnx"))
    ov.save_model(nncf.compress_weights(model), str(out_dir / "model.xml"))


class OpenVinoBackend:
    """A compiled OpenVINO model; each call gets its own infer request (safe across threads)."""

    def __init__(self, name: str, model_file: Path):
        import openvino as ov

        self.name = name
        core = ov.Core()
        self.compiled = core.compile_model(str(model_file), DEVICE, {"INFERENCE_PRECISION_HINT": PRECISION_HINT[name],
                                                                     "INFERENCE_NUM_THREADS": threads()})

    def logits(self, input_ids: np.ndarray, attention_mask: np.ndarray,
               pool_mask: np.ndarray | None) -> np.ndarray:
        request = self.compiled.create_infer_request()
        out = request.infer({"input_ids": input_ids, "attention_mask": attention_mask,
                             "pool_mask": attention_mask if pool_mask is None else pool_mask})
        return np.asarray(out[self.compiled.output(0)], dtype=np.float32)


def load(name: str, model_dir: Path, load_model: Callable[[], object]) -> OpenVinoBackend:
    """``openvino``, ``openvino-bf16`` or ``openvino-int8`` for ``model_dir`` (exporting first if need be)."""
    for module in ("onnx", "onnxscript", "openvino", *(("nncf",) if name == "openvino-int8" else ())):
        require(name, module)
    if name == "openvino-bf16":
        from ..hardware import has_native_bf16

        if not has_native_bf16():
            raise BackendError(f"backend {name!r} needs a CPU with native bf16 (AVX512-BF16 or AMX)")
    fp32 = onnx_export(model_dir, load_model)
    if name == "openvino-int8":
        folder = ensure_export(model_dir, "openvino-int8", lambda tmp: _compress(fp32, tmp))
        return OpenVinoBackend(name, folder / "model.xml")
    return OpenVinoBackend(name, fp32 / "model.onnx")
