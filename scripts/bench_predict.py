"""Benchmark predict() against transformers.pipeline on the same model and passages, side by side.

    python scripts/bench_predict.py [MODEL_DIR] [--n 1200] [--json results.json]

Each configuration runs in a fresh process (so that peak RSS is its own), on the
same multilingual passages from the bundled corpus (a fixed-seed sample):

- predict()            the framing inference path (precision "auto": the one measured fastest on
                       this machine, see framing/hardware.py; length-sorted batches, dynamic
                       padding), batch 32;
- predict() fp32       the same with precision="fp32";
- predict() bf16       the same with precision="bf16" (bf16 autocast);
- pipeline default     transformers.pipeline("text-classification"), model loaded the plain
                       way (fp32), its default batching (one passage at a time);
- pipeline batch 32    the same with batch_size=32.

Printed: the CPU (model, flags), passages per second, the ratio to the batched
pipeline, peak RSS, and the share of passages whose label equals the batched
pipeline's and predict() fp32's (faithfulness of bf16).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

WORKER = r"""
import json, os, resource, sys, time
os.environ["TOKENIZERS_PARALLELISM"] = "false"
mode, model_dir, texts_file, out_file = sys.argv[1:5]
texts = json.load(open(texts_file, encoding="utf-8"))
import framing  # registers the framing head with the Auto classes
if mode.startswith("predict"):
    from framing import predict
    precision = {"predict_fp32": "fp32", "predict_bf16": "bf16"}.get(mode, "auto")
    run = lambda xs: [p.label for p in predict(xs, model=model_dir, batch_size=32, precision=precision)]
else:
    from transformers import pipeline
    pipe = pipeline("text-classification", model=model_dir, device="cpu", trust_remote_code=True)
    prefix = pipe.model.config.text_prefix
    kwargs = {"batch_size": 32} if mode == "pipeline_b32" else {}
    run = lambda xs: [r["label"] for r in pipe([prefix + x for x in xs], truncation=True, **kwargs)]
run(texts[:16])  # warm-up (model load, first allocations)
t0 = time.perf_counter()
labels = run(texts)
seconds = time.perf_counter() - t0
json.dump({"mode": mode, "seconds": seconds, "labels": labels,
           "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}, open(out_file, "w"))
"""

MODES = [("predict", "predict()"), ("predict_fp32", "predict() fp32"), ("predict_bf16", "predict() bf16"),
         ("pipeline_default", "pipeline default"),
         ("pipeline_b32", "pipeline batch 32")]


def sample_passages(n: int, seed: int) -> list[dict]:
    """A fixed-seed sample of ``n`` passages of the bundled corpus (all languages)."""
    from framing.data import load_corpus

    records = load_corpus()
    random.Random(seed).shuffle(records)
    return records[:n]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model_dir", nargs="?", default="outputs/framing-e5-small")
    ap.add_argument("--n", type=int, default=1200, help="passages (default 1200)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, help="write the results here")
    args = ap.parse_args(argv)
    if not Path(args.model_dir, "config.json").is_file():
        print(f"error: {args.model_dir} is not a trained model; run `python scripts/train.py` first", file=sys.stderr)
        return 2
    if args.json:
        from framing.errors import OutputPathError
        from framing.io_utils import check_output_file

        try:
            check_output_file(args.json)  # before the benchmark, not after it
        except OutputPathError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    sample = sample_passages(args.n, args.seed)
    texts = [r["text"] for r in sample]
    langs = dict(sorted(Counter(r["lang"] for r in sample).items()))
    print(f"{len(texts)} passages from the bundled corpus ({', '.join(f'{k} {v}' for k, v in langs.items())}), "
          f"model {args.model_dir}, {os.cpu_count()} CPU cores")
    from framing.hardware import cpu_description

    print(f"CPU: {cpu_description()}")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        tf = Path(tmp) / "texts.json"
        tf.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
        for mode, name in MODES:
            out = Path(tmp) / f"{mode}.json"
            res = subprocess.run([sys.executable, "-c", WORKER, mode, args.model_dir, str(tf), str(out)],
                                 capture_output=True, text=True)
            if res.returncode != 0:
                print(f"error: {name} failed:\n{res.stderr[-3000:]}", file=sys.stderr)
                return 1
            results[mode] = json.loads(out.read_text())
            print(f"  {name}: {len(texts) / results[mode]['seconds']:.1f} passages/s", flush=True)
    ref = results["pipeline_b32"]
    ref_rate = len(texts) / ref["seconds"]
    fp32 = results["predict_fp32"]
    print(f"\n{'configuration':<20}{'passages/s':>12}{'vs pipeline b32':>17}{'peak RSS':>11}{'same labels':>13}"
          f"{'same as fp32':>14}")
    table = []
    for mode, name in MODES:
        r = results[mode]
        rate = len(texts) / r["seconds"]
        same = sum(a == b for a, b in zip(r["labels"], ref["labels"])) / len(texts)
        same32 = sum(a == b for a, b in zip(r["labels"], fp32["labels"])) / len(texts)
        table.append({"configuration": name, "passages_per_s": rate, "ratio_vs_pipeline_b32": rate / ref_rate,
                      "peak_rss_mb": r["peak_rss_mb"], "same_labels_as_pipeline_b32": same,
                      "same_labels_as_predict_fp32": same32})
        print(f"{name:<20}{rate:>12.1f}{rate / ref_rate:>16.2f}x{r['peak_rss_mb']:>8.0f} MB{same:>12.1%}{same32:>13.1%}")
    if args.json:
        from framing.io_utils import atomic_write_json

        atomic_write_json(args.json, {"passages": len(texts), "languages": langs, "model": args.model_dir,
                                      "cpu": cpu_description(), "results": table})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
