"""Inference backends: the model's numeric forward pass in PyTorch, ONNX Runtime or OpenVINO.

``predict(..., backend=...)``: ``"auto"`` (the default, :mod:`framing.backends.select`), ``"torch"``
(its ``precision`` as before), ``"torch-fp32"``, ``"torch-bf16"``, ``"onnx"`` (fp32),
``"onnx-int8"``, ``"openvino"`` (fp32), ``"openvino-bf16"`` and ``"openvino-int8"``. ONNX and OpenVINO need the extras
``framing[onnx]`` / ``framing[openvino]`` and a local model directory; their exports are made once
and cached (:mod:`framing.backends.export`). ``framing bench`` (:mod:`framing.backends.bench`)
measures them all on this machine and caches the result that ``auto`` uses.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .base import (BACKENDS, MEASURED, ONNX_BACKENDS, REFERENCE, TORCH_BACKENDS, Backend,
                   BackendError, check_name, is_installed)

__all__ = ["BACKENDS", "MEASURED", "REFERENCE", "Backend", "BackendError", "check_name", "is_installed",
           "load_backend", "resolve_name"]


def resolve_name(name: str, precision: str, config) -> tuple[str, str]:
    """The concrete backend for ``name`` (``auto`` resolved) and the reason for it.

    ``auto`` with a forced ``precision`` ("fp32"/"bf16") means torch in that precision.
    """
    check_name(name)
    if name != "auto":
        return name, "requested"
    if precision != "auto":
        return f"torch-{precision}", f"precision={precision} requested"
    from .select import choose

    c = choose(config)
    return c.backend, c.reason


def load_backend(name: str, model_dir: Path | None, load_model: Callable[[], object], device: str,
                 precision: str) -> tuple[Backend, object | None]:
    """The backend ``name`` (concrete, not ``auto``) and the torch model if it had to be loaded.

    ``load_model()`` loads (and checks) the torch model; ONNX and OpenVINO call it only to export.
    """
    check_name(name)
    if name in TORCH_BACKENDS:
        from ..hardware import resolve_precision
        from .torch_backend import TorchBackend

        model = load_model()
        prec = resolve_precision(name.split("-")[1] if "-" in name else precision, device, "inference", model)
        return TorchBackend(model, device, prec), model
    if device != "cpu":
        raise BackendError(f"backend {name!r} runs on the CPU only; use device='cpu' or backend='torch'")
    if model_dir is None:
        raise BackendError(f"backend {name!r} needs a local model directory (its export is cached beside it); "
                           f"download the model first or use backend='torch'")
    loaded = []

    def load_once():
        if not loaded:
            loaded.append(load_model())
        return loaded[0]

    if name in ONNX_BACKENDS:
        from .onnx_backend import load
    else:
        from .openvino_backend import load
    backend = load(name, model_dir, load_once)
    return backend, None
