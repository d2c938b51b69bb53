"""Measure the inference backends on this machine: ``framing bench`` and ``scripts/bench_predict.py``.

Every configuration runs in its own process (:mod:`framing.backends.bench_worker`, so that peak
memory is its own and no backend warms another's caches), on the same passages: a fixed-seed
sample of the bundled corpus (timed) and the labelled real news of ``evaluation.real_data`` when
present (untimed, labels only). Reported per configuration: passages per second, peak RSS, the
share of labels equal to torch fp32's and the macro-F1 lost against it, per set, and the
faithfulness gate: a backend passes when, on the real dev passages and on at least 1,200 corpus
passages, it keeps at least 99 % of torch fp32's labels and loses at most 0.005 macro-F1.

``framing bench`` caches the result for this machine (``backends.json``, see
:mod:`framing.backends.select`), which ``backend="auto"`` then uses; a run on fewer passages or
without the real passages is printed but cannot pass the gate.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

from ..hardware import cpu_description, cpu_flags
from .base import MEASURED, REFERENCE, is_installed
from .bench_args import GATE_AGREEMENT, GATE_F1_LOSS, GATE_PASSAGES
from .bench_worker import PIPELINE, PREPARE

CORPUS = "corpus"
AUTO = "auto"
EXPORTS = {"onnx": ("onnx",), "onnx-int8": ("onnx", "onnx-int8"), "openvino": ("onnx",), "openvino-bf16": ("onnx",),
           "openvino-int8": ("onnx", "openvino-int8")}


def sample_corpus(n: int, seed: int) -> list[dict]:
    """A fixed-seed sample of ``n`` passages of the bundled corpus (all languages)."""
    from ..data import load_corpus

    records = load_corpus()
    random.Random(seed).shuffle(records)
    return records[:n]


def real_sets(entries: list[str] | None) -> tuple[dict[str, list[dict]], list[str]]:
    """Labelled real news per file (``real:STEM``) from ``entries`` (default: the config's real_data)."""
    from ..evaluation import find_eval_files
    from ..records import load_records
    from ..training_args import EvaluationSection

    files, skipped = find_eval_files(entries or EvaluationSection().real_data)
    return {f"real:{f.stem}": load_records([f]) for f in files}, skipped


def _inputs(records: list[dict]) -> dict:
    from ..context import article_contexts

    return {"texts": [r["text"] for r in records], "contexts": article_contexts(records),
            "gold": [r["label"] for r in records]}


def run_config(config: str, model_dir: str, in_file: Path, tmp: Path) -> dict:
    """Run one configuration in a fresh process; its JSON result (or an ``error``)."""
    out = tmp / f"{config.replace(':', '-')}.json"
    res = subprocess.run([sys.executable, "-m", "framing.backends.bench_worker", config, model_dir, str(in_file),
                          str(out)], capture_output=True, text=True)
    if res.returncode != 0 or not out.is_file():
        tail = (res.stderr or res.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"config": config, "error": tail[0][-300:]}
    return json.loads(out.read_text(encoding="utf-8"))


def macro_f1(gold: list[str], labels: list[str]) -> float:
    from sklearn.metrics import f1_score

    from ..labels import LABELS

    return float(f1_score(gold, labels, labels=list(LABELS), average="macro", zero_division=0))


def compare(results: dict[str, dict], sets: dict[str, dict]) -> None:
    """Add per set agreement with torch fp32, macro-F1 and its loss, and the gate verdict, in place."""
    ref = results.get(REFERENCE, {})
    for config, r in results.items():
        if "error" in r:
            r.update(passed=False, why=f"failed: {r['error']}")
            continue
        r["passages_per_s"] = len(sets[CORPUS]["texts"]) / r["seconds"]
        r["macro_f1"] = {s: macro_f1(d["gold"], r["labels"][s]) for s, d in sets.items()}
        if "labels" not in ref:
            r.update(passed=False, why=f"no {REFERENCE} reference")
            continue
        r["agreement"] = {s: sum(a == b for a, b in zip(r["labels"][s], ref["labels"][s])) / max(len(d["gold"]), 1)
                          for s, d in sets.items()}
        r["macro_f1_loss"] = {s: ref["macro_f1"][s] - r["macro_f1"][s] for s in sets}
        r["passed"], r["why"] = gate(r, sets)


def gate(r: dict, sets: dict[str, dict]) -> tuple[bool, str]:
    """The faithfulness gate (see the module doc) for one configuration's compared result."""
    if len(sets[CORPUS]["texts"]) < GATE_PASSAGES:
        return False, f"only {len(sets[CORPUS]['texts'])} corpus passages (the gate needs {GATE_PASSAGES})"
    if not any(s.startswith("real:") for s in sets):
        return False, "no real dev passages (the gate needs them)"
    for s in sets:
        if r["agreement"][s] < GATE_AGREEMENT:
            return False, f"{r['agreement'][s]:.1%} of fp32 labels on {s} (< {GATE_AGREEMENT:.0%})"
        if r["macro_f1_loss"][s] > GATE_F1_LOSS:
            return False, f"loses {r['macro_f1_loss'][s]:.4f} macro-F1 on {s} (> {GATE_F1_LOSS})"
    return True, "passed"


def table(report: dict) -> str:
    """The results as a text table, with the CPU and its flags."""
    sets = list(report["sets"])
    res = report["results"]
    base = res.get(PIPELINE, {}).get("passages_per_s")
    head = (f"{'configuration':<15}{'runs':<15}{'passages/s':>11}{'vs pipeline':>12}{'peak RSS':>10}"
            + "".join(f"{'same ' + s.split(':')[-1]:>15}{'dF1 ' + s.split(':')[-1]:>14}" for s in sets) + "  gate")
    lines = [f"CPU: {report['cpu']}", f"{report['threads']} threads; sets: "
             + ", ".join(f"{s} {n}" for s, n in report["sets"].items()), head]
    for config, r in res.items():
        if "error" in r:
            lines.append(f"{config:<15}failed: {r['error']}")
            continue
        rate = r["passages_per_s"]
        ratio = f"{rate / base:.2f}x" if base else "-"
        cells = "".join(f"{r['agreement'][s]:>15.1%}{-r['macro_f1_loss'][s]:>+14.4f}" if "agreement" in r
                        else f"{'-':>15}{'-':>14}" for s in sets)
        verdict = "-" if config in (PIPELINE, AUTO) else ("pass" if r.get("passed") else f"no: {r.get('why')}")
        lines.append(f"{config:<15}{r.get('resolved', config):<15}{rate:>11.1f}{ratio:>12}"
                     f"{r['peak_rss_mb']:>7.0f} MB{cells}  {verdict}")
    return "\n".join(lines)


def _model_config(model_dir: str) -> SimpleNamespace:
    return SimpleNamespace(**json.loads(Path(model_dir, "config.json").read_text(encoding="utf-8")))


def benchmark(args: argparse.Namespace, extra: tuple[str, ...] = ()) -> dict:
    """Measure the requested backends (then ``extra``: ``auto``, ``pipeline``) and cache the result."""
    import torch
    from tqdm import tqdm

    from ..errors import ModelNotFoundError
    from ..inference import default_model_path, validate_model_dir
    from .select import choose, machine_key, save_measurement

    model_dir = args.model or default_model_path()
    if not Path(model_dir).is_dir():
        raise ModelNotFoundError(f"model directory {model_dir} does not exist; train one with `python scripts/train.py`")
    validate_model_dir(Path(model_dir))
    configs = args.backends.split(",") if args.backends else [b for b in MEASURED if is_installed(b)]
    unknown = [c for c in configs if c not in MEASURED]
    if unknown:
        raise ValueError(f"--backends: unknown {', '.join(unknown)}; measurable: {', '.join(MEASURED)}")
    if REFERENCE not in configs:
        configs.insert(0, REFERENCE)
    sample = sample_corpus(args.passages, args.seed)
    reals, skipped = real_sets(args.real_data)
    for s in skipped:
        print(f"note: real data {s}", file=sys.stderr)
    sets = {CORPUS: _inputs(sample), **{k: _inputs(v) for k, v in reals.items()}}
    langs = dict(sorted(Counter(r["lang"] for r in sample).items()))
    report = {"cpu": cpu_description(), "flags": list(cpu_flags()), "threads": torch.get_num_threads(),
              "model": model_dir, "languages": langs, "sets": {s: len(d["texts"]) for s, d in sets.items()},
              "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "results": {}}
    with tempfile.TemporaryDirectory() as tmp:
        in_file = Path(tmp) / "sets.json"
        in_file.write_text(json.dumps({**sets, "_batch_size": args.batch_size}, ensure_ascii=False), encoding="utf-8")
        from .export import cached_export

        for config in configs:  # export first, in a process of its own: its memory is not the backend's peak
            if any(cached_export(Path(model_dir), kind) is None for kind in EXPORTS.get(config, ())):
                print(f"exporting for {config} (once)", file=sys.stderr, flush=True)
                run_config(PREPARE + config, model_dir, in_file, Path(tmp))
        bar = tqdm(configs + list(extra), desc="bench", unit="config", file=sys.stderr)
        for config in bar:
            bar.set_postfix_str(config)
            if config == AUTO:  # after the others, so that it sees the measurement just cached
                compare(report["results"], sets)
                _cache(report, args, machine_key(_model_config(model_dir)), save_measurement)
            report["results"][config] = run_config(config, model_dir, in_file, Path(tmp))
    compare(report["results"], sets)
    if AUTO not in extra:
        _cache(report, args, machine_key(_model_config(model_dir)), save_measurement)
    for r in report["results"].values():
        r.pop("labels", None)
    c = choose(_model_config(model_dir))
    report["auto"] = {"backend": c.backend, "reason": c.reason}
    return report


def _cache(report: dict, args: argparse.Namespace, key: str, save) -> None:
    if args.no_cache or report.get("cached"):
        return
    if report["sets"][CORPUS] < GATE_PASSAGES:
        print(f"note: not cached for backend='auto' ({report['sets'][CORPUS]} < {GATE_PASSAGES} passages)",
              file=sys.stderr)
        return
    results = {k: {f: v for f, v in r.items() if f != "labels"} for k, r in report["results"].items()
               if k in MEASURED}
    report["cached"] = str(save(key, {**{k: v for k, v in report.items() if k != "results"}, "results": results}))


def bench_command(args: argparse.Namespace) -> int:
    """``framing bench``: measure, print the table, cache it; exit 2 on a usage or model error."""
    from ..errors import FramingError
    from ..io_utils import atomic_write_json, check_output_file

    try:
        if args.json:
            check_output_file(args.json)
        if args.passages < 1:
            raise ValueError(f"--passages must be at least 1, got {args.passages}")
        report = benchmark(args, extra=tuple(getattr(args, "extra", ())))
    except (FramingError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(table(report))
    print(f"backend='auto' here: {report['auto']['backend']} ({report['auto']['reason']})")
    if report.get("cached"):
        print(f"cached in {report['cached']}")
    if args.json:
        atomic_write_json(args.json, report)
    return 0
