"""The device a model runs on: checked before anything is loaded."""

from __future__ import annotations

from .errors import DeviceError

DEFAULT_DEVICE = "cpu"


def resolve_device(device: str | None) -> str:
    """``None`` -> ``"cpu"``; ``"cuda"`` / ``"cuda:N"`` only where that GPU exists; anything else is a
    :class:`~framing.errors.DeviceError` (raised before a model is loaded)."""
    if device is None:
        return DEFAULT_DEVICE
    if not isinstance(device, str):
        raise TypeError(f"device must be a string such as 'cpu' or 'cuda', not {type(device).__name__}")
    import torch

    try:
        dev = torch.device(device.strip().lower())
    except (RuntimeError, ValueError):
        raise DeviceError(f"unknown device {device!r}: use 'cpu' or 'cuda' (or 'cuda:N')") from None
    if dev.type == "cpu":
        return "cpu"
    if dev.type != "cuda":
        raise DeviceError(f"device {device!r} is not supported: use 'cpu' or 'cuda'")
    if not torch.cuda.is_available():
        raise DeviceError(f"device {device!r} requested, but no CUDA GPU is available on this machine; "
                          f"use device='cpu'")
    if dev.index is not None and dev.index >= torch.cuda.device_count():
        raise DeviceError(f"device {device!r}: this machine has {torch.cuda.device_count()} CUDA GPU(s)")
    return str(dev)
