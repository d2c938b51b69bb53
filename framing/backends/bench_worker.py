"""One benchmark configuration in its own process: ``python -m framing.backends.bench_worker CONFIG MODEL IN OUT``.

Loads the model with one backend (or ``transformers.pipeline``, the baseline), scores the corpus
sample once to warm up, then times scoring it; then labels the other sets (untimed). Writes the
seconds, the labels per set and the process's peak resident memory (``VmHWM``: its own, not a
parent's) to OUT as JSON.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

PIPELINE = "pipeline"
PREPARE = "prepare:"  # "prepare:onnx": only export (if need be) and load, untimed; exits without scoring
WARMUP_PASSAGES = 16


def peak_rss_mb() -> float:
    """This process's peak resident set size in MB (``VmHWM`` of /proc/self/status; NaN elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _runner(config: str, model_dir: str, batch_size: int):
    if config == PIPELINE:  # the plain way: fp32, the model's own head, truncation, no article context
        import framing.modeling  # noqa: F401  (registers the framing head with the Auto classes: no remote code)
        from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

        model = AutoModelForSequenceClassification.from_pretrained(model_dir, trust_remote_code=False)
        pipe = pipeline("text-classification", model=model, device="cpu", trust_remote_code=False,
                        tokenizer=AutoTokenizer.from_pretrained(model_dir, trust_remote_code=False))
        prefix = getattr(pipe.model.config, "text_prefix", "")
        return lambda texts, contexts: [r["label"] for r in pipe([prefix + t for t in texts], truncation=True,
                                                                 batch_size=batch_size)], "pipeline"
    from framing.inference import load_predictor, predict

    name = load_predictor(model_dir, backend=config).backend  # export (if need be) and load before timing
    return (lambda texts, contexts: [p.label for p in predict(texts, model=model_dir, batch_size=batch_size,
                                                              backend=config, context=contexts)]), name


def main(argv: list[str]) -> int:
    config, model_dir, in_file, out_file = argv
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if config.startswith(PREPARE):
        from framing.inference import load_predictor

        load_predictor(model_dir, backend=config[len(PREPARE):])
        Path(out_file).write_text(json.dumps({"config": config, "prepared": True}), encoding="utf-8")
        return 0
    sets = json.loads(Path(in_file).read_text(encoding="utf-8"))
    batch_size = int(sets.pop("_batch_size"))
    run, resolved = _runner(config, model_dir, batch_size)
    timed = sets["corpus"]
    run(timed["texts"][:WARMUP_PASSAGES], timed["contexts"][:WARMUP_PASSAGES])
    t0 = time.perf_counter()
    labels = {"corpus": run(timed["texts"], timed["contexts"])}
    seconds = time.perf_counter() - t0
    for name, s in sets.items():
        if name != "corpus":
            labels[name] = run(s["texts"], s["contexts"])
    Path(out_file).write_text(json.dumps({"config": config, "resolved": resolved, "seconds": seconds,
                                          "labels": labels, "peak_rss_mb": peak_rss_mb()}), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
