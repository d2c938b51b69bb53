"""Throughput of archive scoring on Ray Data with 1 and 2 workers, against predict() in-process.

    python scripts/bench_ray.py --model outputs/framing-e5-small            # 3,000 passages, all cores
    python scripts/bench_ray.py --model PATH --n 200 --partition-rows 50   # a quick check

The passages are the bundled corpus (``framing/corpus/*.jsonl``, repeated with
new ids until there are ``--n``), written as one JSONL file with their
article ids, so passage-mode context is used as in training. Each Ray run uses
``--cores`` CPUs in all: W workers of ``cores / W`` CPUs and torch threads
each; ``predict()`` runs in this process with ``--cores`` threads. Printed per
run: passages/s end to end (Ray start-up excluded, actor start and model load
included) and in steady state (scoring time of the partitions only), and
whether the labels equal ``predict()``'s. Run on a quiet machine: a busy CPU
makes every figure meaningless.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def corpus_passages(n: int) -> list[dict]:
    """``n`` passages from the bundled corpus, whole articles in reading order (repeated with new ids)."""
    from framing.records import load_records

    recs = sorted(load_records(sorted((ROOT / "framing" / "corpus").glob("*.jsonl"))),
                  key=lambda r: (r["article_id"], r["lang"], r["para"]))
    out: list[dict] = []
    copy = 0
    while len(out) < n:
        for r in recs:
            if len(out) == n:
                break
            tag = f"~{copy}" if copy else ""
            out.append({"id": r["id"] + tag, "article_id": r["article_id"] + tag, "para": r["para"],
                        "lang": r["lang"], "text": r["text"]})
        copy += 1
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.environ.get("FRAMING_MODEL", "outputs/framing-e5-small"))
    ap.add_argument("--n", type=int, default=3000, help="passages (default 3000)")
    ap.add_argument("--cores", type=int, default=os.cpu_count(), help="CPUs in all (default: this machine's)")
    ap.add_argument("--workers", default="1,2", help="worker counts to measure (default 1,2)")
    ap.add_argument("--partition-rows", type=int, default=250)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args(argv)

    import pyarrow.parquet as pq
    import ray
    import torch

    from framing import predict
    from framing.archive import score_archive
    from framing.context import article_contexts
    from framing.inference import load_predictor

    recs = corpus_passages(args.n)
    texts, contexts = [r["text"] for r in recs], article_contexts(recs)
    work = Path(tempfile.mkdtemp(prefix="bench-ray-"))
    src = work / "passages.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), encoding="utf-8")

    torch.set_num_threads(args.cores)
    load_predictor(args.model)
    predict(texts[:8], args.model, context=contexts[:8], batch_size=args.batch_size)  # warm-up
    t0 = time.perf_counter()
    expected = [p.label for p in predict(texts, args.model, context=contexts, batch_size=args.batch_size)]
    results = [{"run": f"predict() in-process, {args.cores} threads", "passages_per_s": len(texts) /
                (time.perf_counter() - t0), "steady_per_s": None, "labels_identical": True}]

    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
           "TOKENIZERS_PARALLELISM": "false"}
    ray.init(num_cpus=args.cores, include_dashboard=False, log_to_driver=False, runtime_env={"env_vars": env})
    for w in (int(x) for x in args.workers.split(",")):
        out = work / f"out-{w}"
        s = score_archive(src, out, args.model, num_workers=w, cpus_per_worker=args.cores / w,
                          threads_per_worker=max(1, args.cores // w), partition_rows=args.partition_rows,
                          batch_size=args.batch_size, overwrite=True, progress=False)
        busy = sum(d["seconds"] for d in s.per_partition) / w
        got = pq.read_table(out, columns=["label"]).column(0).to_pylist()
        results.append({"run": f"ray, {w} worker(s) x {max(1, args.cores // w)} threads",
                        "passages_per_s": s.passages / s.seconds, "steady_per_s": s.passages / busy,
                        "labels_identical": got == expected})
    ray.shutdown()
    shutil.rmtree(work, ignore_errors=True)

    print(f"\n{len(texts)} passages, {args.cores} cores, model {args.model}\n")
    print(f"| run | passages/s end to end | passages/s steady | labels = predict() |\n|---|---:|---:|---|")
    for r in results:
        steady = f"{r['steady_per_s']:.1f}" if r["steady_per_s"] else "-"
        print(f"| {r['run']} | {r['passages_per_s']:.1f} | {steady} | {'yes' if r['labels_identical'] else 'NO'} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"n": len(texts), "cores": args.cores, "model": args.model,
                                               "results": results}, indent=2) + "\n")
    return 0 if all(r["labels_identical"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
