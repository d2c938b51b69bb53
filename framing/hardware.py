"""CPU features, and the precision measured fastest on *this* machine.

bf16 autocast is not faster on every CPU that reports bf16 support, and CPU
flags alone do not tell. Measured so far, side by side (batch 16 x 64 tokens,
one e5-small training step, frozen word embeddings):

- Intel with AMX: bf16 ran training 1.5x and inference 2.7x faster than fp32;
- AMD EPYC, AVX512-BF16 without AMX (cpu family 25): bf16 1.65 s, fp32 0.81 s
  per step; ``predict()`` 39.9 (bf16) against 58.8 (fp32) passages/s;
- AMD EPYC, AVX512-BF16 without AMX (cpu family 26): bf16 0.60 s, fp32 1.33 s
  per step (``scripts/bench_train_step.py``).

The two AVX512-BF16 machines have the same flags and opposite winners. So
``precision="auto"`` measures: on a CPU with native bf16 (AMX or AVX512-BF16)
it times a few forward (inference) or forward+backward (training) passes of
the real model in both precisions, once per machine, model shape and torch
version, caches the winner in the framing cache (``precision.json``, written
atomically), and uses it from then on. A CPU without native bf16 gets fp32
(emulated bf16 is always slower); CUDA gets bf16. bf16 must also be faithful:
``scripts/bench_predict.py`` reports its label agreement with fp32.
"""

from __future__ import annotations

import platform
import sys
import threading
import time
from functools import lru_cache
from pathlib import Path

PRECISIONS = ("auto", "bf16", "fp32")
FLAGS_OF_INTEREST = ("amx_bf16", "amx_tile", "avx512_bf16", "avx512_vnni", "avx512f", "avx2")
NATIVE_BF16_FLAGS = ("amx_bf16", "avx512_bf16")
CACHE_FILE = "precision.json"
WARMUP = 2  # passes not timed: the first ones allocate and build kernels
MIN_GAIN = 1.1  # bf16 must be at least this much faster to be chosen (timing noise margin)
PROBE = {"inference": {"batch": 32, "tokens": 64, "repeats": 3},
         "train": {"batch": 16, "tokens": 64, "repeats": 3}}
_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def cpuinfo() -> dict[str, str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return {}
    info: dict[str, str] = {}
    for line in text.splitlines():
        if ":" in line:
            k, v = (x.strip() for x in line.split(":", 1))
            info.setdefault(k, v)
        elif not line.strip() and info:
            break  # the first processor is enough
    return info


def cpu_flags() -> tuple[str, ...]:
    """The flags of interest that ``/proc/cpuinfo`` reports (empty where it is unreadable)."""
    flags = set(cpuinfo().get("flags", "").split())
    return tuple(f for f in FLAGS_OF_INTEREST if f in flags)


def cpu_description() -> str:
    """Model name, family/model and flags of interest, e.g. for benchmark tables and model cards."""
    info = cpuinfo()
    name = info.get("model name", platform.processor() or "unknown CPU")
    fam = f"family {info['cpu family']} model {info.get('model', '?')}" if "cpu family" in info else ""
    return "; ".join(x for x in (name, fam, "flags: " + (", ".join(cpu_flags()) or "none of interest")) if x)


def has_native_bf16() -> bool:
    """True when the CPU reports bf16 arithmetic (AMX or AVX512-BF16)."""
    return any(f in cpu_flags() for f in NATIVE_BF16_FLAGS)


def _machine_key(task: str, model) -> str:
    import torch

    shape = ""
    if model is not None:
        c = model.config
        shape = f"{getattr(c, 'num_hidden_layers', '?')}x{getattr(c, 'hidden_size', '?')}"
    return f"{cpu_description()} | torch {torch.__version__} | {torch.get_num_threads()} threads | {task} | {shape}"


def _cache_path() -> Path:
    from .base_model import cache_dir

    return cache_dir() / CACHE_FILE


def _load_cache() -> dict:
    from .io_utils import read_json_cache

    return read_json_cache(_cache_path())


def time_precisions(model, task: str) -> dict[str, float]:
    """Fastest seconds of a forward (``inference``) or forward+backward (``train``) pass per precision."""
    import torch

    p = PROBE[task]
    vocab = int(getattr(model.config, "vocab_size", 1000))
    ids = torch.randint(5, max(6, min(vocab, 30000)), (p["batch"], p["tokens"]))
    mask = torch.ones_like(ids)
    was_training = model.training
    model.train(task == "train")
    times: dict[str, list[float]] = {"fp32": [], "bf16": []}
    try:
        for _ in range(p["repeats"] + WARMUP):  # interleaved, so that other load hits both alike
            for precision in ("fp32", "bf16"):
                t0 = time.perf_counter()
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
                    if task == "train":
                        model(input_ids=ids, attention_mask=mask).logits.float().sum().backward()
                    else:
                        with torch.inference_mode():
                            model(input_ids=ids, attention_mask=mask)
                times[precision].append(time.perf_counter() - t0)
    finally:
        if task == "train":
            for prm in model.parameters():
                prm.grad = None
        model.train(was_training)
    return {k: min(v[WARMUP:]) for k, v in times.items()}  # the least disturbed pass of each


def best_precision(task: str, device: str = "cpu", model=None) -> str:
    """The precision measured fastest for ``task`` (``train`` or ``inference``) on this machine."""
    if task not in PROBE:
        raise ValueError(f"task must be one of {', '.join(PROBE)}, got {task!r}")
    if device.startswith("cuda"):
        return "bf16"
    if not has_native_bf16() or model is None:
        return "fp32"
    key = _machine_key(task, model)
    with _LOCK:
        cached = _load_cache().get(key)
        if isinstance(cached, dict) and cached.get("best") in ("fp32", "bf16"):
            return cached["best"]
        timings = time_precisions(model, task)
        best = "bf16" if timings["bf16"] * MIN_GAIN < timings["fp32"] else "fp32"
        data = _load_cache()
        data[key] = {"best": best, "seconds": timings}
        try:
            from .io_utils import atomic_write_json

            _cache_path().parent.mkdir(parents=True, exist_ok=True)
            atomic_write_json(_cache_path(), data)
        except OSError:
            pass  # an unwritable cache only means measuring again next time
        print(f"precision auto ({task}): fp32 {timings['fp32']:.3f} s, bf16 {timings['bf16']:.3f} s per probe "
              f"-> {best} (cached in {_cache_path()})", file=sys.stderr, flush=True)
        return best


def resolve_precision(precision: str, device: str = "cpu", task: str = "inference", model=None) -> str:
    """``auto`` -> :func:`best_precision` for ``task``; ``bf16`` / ``fp32`` are returned as they are."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    return best_precision(task, device, model) if precision == "auto" else precision


def forget(task: str | None = None) -> int:
    """Drop cached measurements (of ``task`` only, if given) so that the next ``auto`` measures again."""
    data = _load_cache()
    keep = {k: v for k, v in data.items() if task is not None and f"| {task} |" not in k}
    from .io_utils import atomic_write_json

    if _cache_path().exists():
        atomic_write_json(_cache_path(), keep)
    return len(data) - len(keep)


def main(argv: list[str] | None = None) -> int:
    """Print this machine's CPU, the cached precision measurements, and optionally measure again."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m framing.hardware", description=main.__doc__)
    ap.add_argument("--model", help="a model directory to measure with (default: none, only print)")
    ap.add_argument("--remeasure", action="store_true", help="forget cached results and measure again (quiet CPU!)")
    args = ap.parse_args(argv)
    print(f"CPU: {cpu_description()}")
    if args.remeasure:
        print(f"forgot {forget()} cached measurement(s)")
    if args.model:
        from .inference import Predictor

        model = Predictor(args.model, "cpu", "fp32").model
        for task in PROBE:
            print(f"{task}: {best_precision(task, 'cpu', model)}")
    for key, entry in _load_cache().items():
        s = entry.get("seconds", {})
        print(f"{key}\n    fp32 {s.get('fp32', float('nan')):.3f} s, bf16 {s.get('bf16', float('nan')):.3f} s "
              f"-> {entry.get('best')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
