"""The manifest of an archive output: inputs, model, options and plan that its partitions come from.

A rerun into the same directory continues only when all four match; otherwise
finished partitions would mix two models or two cuttings of the inputs, so the
run is refused (``--overwrite`` replaces the old results instead).
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from ..errors import ArchiveError
from .options import ArchiveOptions
from .partitions import OutputDir, Partition, plan_digest
from .sources import InputFile

FORMAT = "framing-archive/1"
COMPARED = ("format", "inputs", "model", "options", "plan")
MODEL_FILES = ("config.json", "*.safetensors", "*.bin", "tokenizer.json", "tokenizer_config.json")
HASH_CHUNK = 1 << 22


def model_fingerprint(model: str) -> dict:
    """A local model directory by the content of its files; a URI or Hub id by its name."""
    path = Path(model)
    if "://" in model or not path.is_dir():
        return {"path": model, "sha256": None}
    h = hashlib.sha256()
    files = sorted({f for pattern in MODEL_FILES for f in path.glob(pattern) if f.is_file()})
    for f in files:
        h.update(f.name.encode() + b"\0")
        with f.open("rb") as fh:
            while block := fh.read(HASH_CHUNK):
                h.update(block)
    return {"path": str(path.resolve()), "sha256": h.hexdigest()}


def build(files: list[InputFile], model: str, opts: ArchiveOptions, parts: list[Partition]) -> dict:
    from .. import __version__

    return {"format": FORMAT, "inputs": [f.fingerprint() for f in files], "model": model_fingerprint(model),
            "options": opts.to_dict(), "plan": {"partitions": len(parts), "sha256": plan_digest(parts)},
            "framing_version": __version__, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def _model_key(m: dict) -> object:
    return m.get("sha256") or m.get("path")


def differences(old: dict, new: dict) -> list[str]:
    """What differs between an existing manifest and this run's (empty: the same run)."""
    out = []
    for key in COMPARED:
        a, b = old.get(key), new.get(key)
        if key == "model":
            if _model_key(a or {}) != _model_key(b or {}):
                out.append(f"model ({(a or {}).get('path')} -> {b.get('path')})")
        elif key == "options" and isinstance(a, dict):
            a = {**ArchiveOptions().to_dict(), **a}  # an option added since (e.g. backend) had its default
            changed = [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
            if changed:
                out.append("options (" + ", ".join(f"{k}: {a.get(k)!r} -> {b.get(k)!r}" for k in changed) + ")")
        elif key == "plan":
            if a != b and not out:  # follows from the inputs and options; alone it means another framing version
                out.append("partition plan (written by another version of framing?)")
        elif a != b:
            out.append("inputs (files added, removed or changed)" if key == "inputs" else key)
    return out


def prepare(out: OutputDir, manifest: dict, overwrite: bool) -> set[str]:
    """Make ``out`` ready for this run; the keys of the partitions already finished there."""
    names = out.entries()
    old = out.read_manifest() if names else None
    if names and old is None:
        if any(not OutputDir.ours(n) for n in names):
            raise ArchiveError(f"--output {out.uri} is not empty and holds no _manifest.json: not the output "
                               f"of an archive run; choose an empty or new directory")
    if old is None and out.finished() and not overwrite:
        raise ArchiveError(f"--output {out.uri} holds partitions but no _manifest.json, so what they were scored "
                           f"with is unknown; choose another --output or pass --overwrite to replace them")
    if old is not None:
        diff = differences(old, manifest)
        if diff and not overwrite:
            raise ArchiveError(f"--output {out.uri} holds the results of another run: different "
                               f"{'; '.join(diff)}. Rerun with the same inputs, model and options to resume, "
                               f"choose another --output, or pass --overwrite to replace them")
    if overwrite:
        out.clear()
    out.create()
    out.clean_tmp()
    if old is None or overwrite:
        out.write_manifest(manifest)
    return out.finished()
