"""Fine-tune the framing classifier on the bundled corpus, evaluate it, and save it with its model card.

    python scripts/train.py                                   # configs/default.yaml
    python scripts/train.py --config configs/tiny.yaml        # another config
    python scripts/train.py training.epochs=2 output_dir=outputs/try   # overrides (or --set key=value)

Data-parallel (README, "Training on several processes / GPUs"; training.batch_size is the global batch):

    accelerate launch --config_file configs/accelerate/cpu-2proc.yaml scripts/train.py ...   # 2 CPU processes
    accelerate launch --multi_gpu --num_processes 8 scripts/train.py ...                     # 8 GPUs
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from pathlib import Path

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "configs" / "default.yaml"
# scripts/evaluate.py would shadow the `evaluate` library that framing imports: keep this folder off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that every cleanup runs (temporary folders, atomic writes)."""


def _on_sigterm(signum, frame):
    raise Terminated()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help=f"YAML config (default {DEFAULT_CONFIG})")
    ap.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE", help="override a field")
    ap.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="override a field (dotted keys)")
    ap.add_argument("--no-resume", action="store_true", help="ignore checkpoints of an interrupted run")
    args = ap.parse_intermixed_args(argv)

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from framing.errors import FramingError

    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        from framing.trainer import run_training
        from framing.training_args import load_config

        cfg = load_config(args.config if args.config.exists() or args.config != DEFAULT_CONFIG else None,
                          [*args.sets, *args.overrides])
        if args.no_resume:
            cfg.resume = False
        run_training(cfg)
    except FramingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        print("\ninterrupted: output_dir holds the previous model or the complete new one, never a part; run "
              "the same command again to resume from the last checkpoint", file=sys.stderr)
        return 128 + (signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT)
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
