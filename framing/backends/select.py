"""``backend="auto"``: the backend measured fastest on this machine among those that are faithful.

In order:

1. this machine's own measurement (``backends.json`` in the framing cache, written by
   ``framing bench``, keyed by CPU, thread count, library versions and model shape): the fastest
   backend that passed the faithfulness gate and is installed;
2. else the shipped table of measured CPU feature classes (``measured.yaml`` beside this module):
   the first row whose flags this CPU has, if that backend is installed;
3. else ``torch`` with the precision of :mod:`framing.hardware` (fp32 unless bf16 was measured
   faster on this machine).

A backend that failed the gate is never picked, however fast it ran.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import yaml

from ..hardware import cpuinfo, cpu_description, cpu_flags
from .base import MEASURED, is_installed

CACHE_FILE = "backends.json"
SHIPPED = Path(__file__).with_name("measured.yaml")
FALLBACK = "torch"


@dataclass(frozen=True)
class Choice:
    """The backend ``auto`` resolved to, and why (shown by ``framing bench`` and the server's /v1/model)."""

    backend: str
    reason: str


def model_shape(config) -> str:
    """Layers x hidden size: measurements of one model shape carry over to its retrained versions."""
    return f"{getattr(config, 'num_hidden_layers', '?')}x{getattr(config, 'hidden_size', '?')}"


def _versions() -> str:
    out = []
    for dist in ("torch", "onnxruntime", "openvino"):
        try:
            out.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            pass
    return ", ".join(out)


def machine_key(config, threads: int | None = None) -> str:
    """The cache key of a measurement: this CPU, the thread count, the libraries and the model shape."""
    import torch

    n = torch.get_num_threads() if threads is None else threads
    return f"{cpu_description()} | {_versions()} | {n} threads | {model_shape(config)}"


def cache_path() -> Path:
    from ..base_model import cache_dir

    return cache_dir() / CACHE_FILE


def load_measurements() -> dict:
    """Every cached measurement (``{machine_key: entry}``); an unreadable cache is an empty one."""
    from ..io_utils import read_json_cache

    return read_json_cache(cache_path())


def save_measurement(key: str, entry: dict) -> Path:
    """Store ``entry`` (``{"results": {backend: {...}}, ...}``) for ``key``, atomically."""
    from ..io_utils import atomic_write_json

    data = load_measurements()
    data[key] = entry
    cache_path().parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(cache_path(), data)
    return cache_path()


def fastest_faithful(entry: dict, installed=is_installed) -> str | None:
    """The fastest backend of a measurement that passed the gate and is installed (None if none)."""
    results = entry.get("results", {}) if isinstance(entry, dict) else {}
    ok = [(r.get("passages_per_s", 0.0), name) for name, r in results.items()
          if name in MEASURED and isinstance(r, dict) and r.get("passed") is True and installed(name)]
    return max(ok)[1] if ok else None


def shipped_classes(path: Path = SHIPPED) -> list[dict]:
    """The rows of the shipped table (``flags``, ``backend``, ``measured``)."""
    rows = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("classes") or []
    return [r for r in rows if isinstance(r, dict) and r.get("backend") in MEASURED]


def _row_matches(row: dict, have: set[str], cpu: dict[str, str], shape: str) -> bool:
    """A shipped row applies when the CPU has all its ``flags`` and every ``cpuinfo`` field it names
    (e.g. vendor and family: the same flags gave opposite bf16 results on two CPUs), and the model has
    the shape it was measured with (``model``, layers x hidden size), if it names one."""
    fields = row.get("cpuinfo") or {}
    return (set(row.get("flags") or []) <= have and all(str(cpu.get(k, "")) == str(v) for k, v in fields.items())
            and str(row.get("model", shape)) == shape)


def choose(config, installed=is_installed, flags: tuple[str, ...] | None = None,
           cpu: dict[str, str] | None = None) -> Choice:
    """What ``backend="auto"`` means for a model with ``config`` on this machine (see the module doc)."""
    entry = load_measurements().get(machine_key(config))
    if entry is not None:
        best = fastest_faithful(entry, installed)
        if best is not None:
            return Choice(best, f"measured on this machine ({cache_path()})")
    have = set(cpu_flags() if flags is None else flags)
    cpu = cpuinfo() if cpu is None else cpu
    for row in shipped_classes():
        if _row_matches(row, have, cpu, model_shape(config)) and installed(row["backend"]):
            return Choice(row["backend"], f"measured on CPUs with {', '.join(row.get('flags') or [])}: "
                                          f"{row.get('measured', '')}".rstrip(": "))
    return Choice(FALLBACK, "nothing measured for this CPU: torch, precision from framing.hardware")
