"""Time one training step of the real encoder in fp32 and in bf16 autocast, side by side.

``python scripts/bench_train_step.py [--batch 16] [--tokens 64] [--steps 6]`` prints seconds per
step (median after one warm-up) for each precision on this machine, with the CPU's flags. This is
the measurement behind ``training.precision: auto`` (see ``framing.hardware``).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--precisions", nargs="+", default=["fp32", "bf16", "fp32"],
                    help="in this order (the first is measured twice by default, to expose warm-up effects)")
    args = ap.parse_args()
    from framing.base_model import resolve
    from framing.hardware import cpu_flags
    from framing.training_args import TrainConfig
    from framing.trainer import build_model

    cfg = TrainConfig()
    enc = resolve(cfg.base_model)
    print(f"CPU flags: {', '.join(cpu_flags()) or 'none of interest'}; {torch.get_num_threads()} threads")
    for precision in args.precisions:
        model = build_model(cfg, enc).train()
        opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
        ids = torch.randint(5, 1000, (args.batch, args.tokens))
        labels = torch.randint(0, 3, (args.batch,))
        times = []
        for _ in range(args.steps + 1):
            t0 = time.perf_counter()
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
                out = model(input_ids=ids, attention_mask=torch.ones_like(ids), labels=labels)
            out.loss.backward()
            opt.step()
            opt.zero_grad()
            times.append(time.perf_counter() - t0)
        print(f"{precision}: {statistics.median(times[1:]):.3f} s per step "
              f"(batch {args.batch} x {args.tokens} tokens, frozen word embeddings)", flush=True)
        del model, opt


if __name__ == "__main__":
    main()
