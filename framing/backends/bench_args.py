"""Command-line options of ``framing bench`` and ``scripts/bench_predict.py`` (one definition for both)."""

from __future__ import annotations

import argparse

GATE_PASSAGES = 1200  # corpus passages the faithfulness gate needs (and the default sample)
GATE_AGREEMENT = 0.99  # at least this share of torch fp32's labels ...
GATE_F1_LOSS = 0.005  # ... and at most this much macro-F1 lost, on every set
DEFAULT_BATCH = 32
DEFAULT_SEED = 0


def add_bench_arguments(ap: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the options both commands take."""
    ap.add_argument("--model", help="model directory (default: $FRAMING_MODEL, else outputs/framing-e5-small)")
    ap.add_argument("--passages", type=int, default=GATE_PASSAGES,
                    help=f"corpus passages to time and compare (default {GATE_PASSAGES}; fewer is a quick check "
                         f"that is printed but never cached for backend='auto')")
    ap.add_argument("--backends", help="comma-separated backends to measure (default: every installed one)")
    ap.add_argument("--real-data", action="append", metavar="PATH",
                    help="labelled real news (file or folder; default: the training config's evaluation.real_data,"
                         " skipped when absent)")
    ap.add_argument("--batch-size", type=int, default=DEFAULT_BATCH)
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the corpus sample")
    ap.add_argument("--json", help="also write the results to this JSON file (atomically)")
    ap.add_argument("--no-cache", action="store_true", help="print only; do not store the result for 'auto'")
    return ap
