"""Exports of a model directory for the ONNX Runtime and OpenVINO backends, made once and cached beside it.

``MODEL_DIR/onnx/model.onnx`` is the whole framing model (encoder, pooling over
``pool_mask * attention_mask`` and the linear head) exported with
``torch.onnx.export`` (the dynamo exporter: the TorchScript one bakes the
attention mask of its example into the graph); ``MODEL_DIR/onnx-int8/`` is that
graph with dynamic int8 quantization (``onnxruntime.quantization.quantize_dynamic``,
what Optimum's ``ORTQuantizer`` runs); ``MODEL_DIR/openvino-int8/`` is the ONNX
graph converted to OpenVINO IR with int8 weights (NNCF weight compression, as
optimum-intel's ``load_in_8bit``).

Each export is built in a temporary directory beside its target and renamed
into place when complete (a crash never leaves a half export that a later load
would trust), under a file lock (two processes never export at once). Its
``export.json`` holds a key made of the weight files' sizes and modification
times, ``config.json``'s hash and the exporter's versions: a retrained or
edited model, or a new exporter, exports again. A model directory we cannot
write gets its exports under ``$FRAMING_CACHE/exports/`` instead (said once on
stderr); ``$FRAMING_EXPORTS`` puts every export there.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

EXPORT_FORMAT = 1  # bump when the exported graph changes, so old exports are rebuilt
OPSET = 18
KEY_FILE = "export.json"
EXPORTS_ENV = "FRAMING_EXPORTS"
INPUTS = ("input_ids", "attention_mask", "pool_mask")
# Example batch for the exporter: padded rows and a context segment, so that no mask is constant-folded.
EXAMPLE_SHAPE = (2, 16)
INT8_PER_CHANNEL = True  # per-output-channel weight scales: closer to fp32 than one scale per matrix
_DIR_MODE = 0o755
# The export folders (and their lock files) a model directory may hold beside the model: derived
# caches, which retraining into the directory may delete (framing.output_paths).
_TOOLS = {"onnx": ("torch", "onnx", "onnxscript"), "onnx-int8": ("torch", "onnx", "onnxscript", "onnxruntime"),
          "openvino-int8": ("torch", "onnx", "onnxscript", "openvino", "nncf")}
EXPORT_KINDS = tuple(_TOOLS)


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "missing"


def export_key(model_dir: Path, kind: str) -> dict:
    """What an export of ``kind`` depends on: the weights (size, mtime), the config, the tools' versions."""
    weights = sorted([*model_dir.glob("*.safetensors"), *model_dir.glob("*.bin")])
    return {"format": EXPORT_FORMAT, "kind": kind, "opset": OPSET,
            "weights": {p.name: [p.stat().st_size, p.stat().st_mtime_ns] for p in weights},
            "config_sha256": hashlib.sha256((model_dir / "config.json").read_bytes()).hexdigest(),
            "tools": {t: _version(t) for t in _TOOLS.get(kind, ())}}


def _writable(folder: Path) -> bool:
    return os.access(folder, os.W_OK | os.X_OK)


_SAID: set[str] = set()


def export_dir(model_dir: Path, kind: str) -> Path:
    """Where the ``kind`` export of ``model_dir`` lives: beside it, else under the framing cache."""
    from ..base_model import cache_dir

    root = os.environ.get(EXPORTS_ENV)
    if not root and _writable(model_dir):
        return model_dir / kind
    tag = hashlib.sha256(str(model_dir.resolve()).encode()).hexdigest()[:12]
    target = Path(root or cache_dir() / "exports") / f"{model_dir.resolve().name}-{tag}" / kind
    if not root and str(model_dir) not in _SAID:
        _SAID.add(str(model_dir))
        print(f"note: {model_dir} is read-only; its exports are cached in {target.parent}", file=sys.stderr)
    return target


def cached_export(model_dir: Path, kind: str) -> Path | None:
    """The up-to-date ``kind`` export of ``model_dir``, or None when there is none (or a stale one)."""
    target = export_dir(model_dir, kind)
    try:
        if json.loads((target / KEY_FILE).read_text(encoding="utf-8")) == export_key(model_dir, kind):
            return target
    except (OSError, ValueError):
        pass
    return None


def ensure_export(model_dir: Path, kind: str, build: Callable[[Path], None]) -> Path:
    """The ``kind`` export of ``model_dir``, built with ``build(tmp_dir)`` (atomically) when missing or stale."""
    from filelock import FileLock

    found = cached_export(model_dir, kind)
    if found is not None:
        return found
    target = export_dir(model_dir, kind)
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target.parent / f".{kind}.lock")):
        found = cached_export(model_dir, kind)  # another process may have built it meanwhile
        if found is not None:
            return found
        print(f"exporting {model_dir} for {kind} (once; cached in {target})", file=sys.stderr, flush=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{kind}.", suffix=".tmp", dir=target.parent))
        try:
            build(tmp)
            os.chmod(tmp, _DIR_MODE)  # mkdtemp made it private; an export is as readable as its model
            (tmp / KEY_FILE).write_text(json.dumps(export_key(model_dir, kind), indent=2), encoding="utf-8")
            old = None
            if target.exists():  # a stale export: move it aside, put the new one in place, then drop it
                old = Path(tempfile.mkdtemp(prefix=f".{kind}.", suffix=".old", dir=target.parent))
                os.replace(target, old / kind)
            os.replace(tmp, target)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return target


def export_onnx(model, out_dir: Path) -> None:
    """Write ``out_dir/model.onnx``: the fp32 framing model with dynamic batch and width."""
    import torch

    batch, width = EXAMPLE_SHAPE
    ids = torch.randint(5, 100, (batch, width))
    mask = torch.ones_like(ids)
    mask[1, width // 2:] = 0
    pool = mask.clone()
    pool[0, width // 2:] = 0

    class LogitsOnly(torch.nn.Module):  # the graph to trace: three int64 inputs, the label logits out
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, pool_mask):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask, pool_mask=pool_mask).logits

    b, w = torch.export.Dim("batch"), torch.export.Dim("width")
    dims = {name: {0: b, 1: w} for name in INPUTS}
    with torch.no_grad():
        torch.onnx.export(LogitsOnly(model.float().eval()).eval(), (ids, mask, pool), str(out_dir / "model.onnx"),
                          input_names=list(INPUTS), output_names=["logits"], dynamic_shapes=dims,
                          opset_version=OPSET, dynamo=True, external_data=False, verbose=False)


def quantize_int8(src_dir: Path, out_dir: Path) -> None:
    """Write ``out_dir/model.onnx``: ``src_dir/model.onnx`` with int8 weights and dynamically quantized
    activations (ONNX Runtime's dynamic quantization, per-channel int8 weights)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(src_dir / "model.onnx"), str(out_dir / "model.onnx"), weight_type=QuantType.QInt8,
                     per_channel=INT8_PER_CHANNEL)
