"""``framing predict --engine ray``: the options of archive scoring and the command that runs it."""

from __future__ import annotations

import argparse
import sys

from ..errors import FramingError, UsageError
from .options import DEFAULT_PARTITION_ROWS

ENGINES = ("local", "ray")
EXIT_USAGE = 2


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The archive options of ``framing predict`` (used with ``--engine ray``)."""
    g = p.add_argument_group("archive scoring (--engine ray: pip install \"framing[ray]\")")
    g.add_argument("--engine", choices=ENGINES, default="local",
                   help="local: this process, streamed output (default); ray: Ray Data over JSONL/parquet files "
                        "or directories (local or s3://, gs://, hdfs://), one parquet file per partition in "
                        "--output DIR, resumable")
    g.add_argument("--num-workers", type=int, default=1, help="scoring actors, each loads the model once "
                                                              "(default 1)")
    g.add_argument("--cpus-per-worker", type=float, default=1, help="CPUs Ray reserves per actor (default 1)")
    g.add_argument("--threads-per-worker", type=int, help="torch threads per actor (default: --cpus-per-worker)")
    g.add_argument("--partition-rows", type=int, default=DEFAULT_PARTITION_ROWS,
                   help=f"input rows per output partition (default {DEFAULT_PARTITION_ROWS}; in passage mode "
                        f"extended to the end of an article)")
    g.add_argument("--id-column", help="column of the passage (article) id (default: 'id' when present, else "
                                       "FILE:LINE / FILE:ROW)")
    g.add_argument("--article-column", help="column of the article id (default: 'article_id' when present); in "
                                            "passage mode it gives each passage its article context")
    g.add_argument("--para-column", help="passage number inside the article (default: 'para' when present)")
    g.add_argument("--lang-column", help="language column (default: 'lang' when present)")
    g.add_argument("--keep-text", action="store_true", help="also write each passage's text")
    g.add_argument("--overwrite", action="store_true", help="replace the results of another run in --output")


def run(args: argparse.Namespace) -> int:
    """``framing predict --engine ray``: print ``error: ...`` and return 2 on any error of the package."""
    try:
        return _run(args)
    except FramingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _run(args: argparse.Namespace) -> int:
    from .job import score_archive

    if args.output in (None, "-"):
        raise UsageError("--engine ray writes partitioned parquet: give --output DIR (a local path or a URI)")
    for flag, value, default in (("--format", args.format, "jsonl"), ("--explain", args.explain, False),
                                 ("--input-format", args.input_format, None), ("--prefix", args.prefix, "pred_")):
        if value != default:
            raise UsageError(f"{flag} is not supported with --engine ray")
    if "-" in args.files:
        raise UsageError("--engine ray reads files or directories, not standard input")
    text_column = args.text_column if args.text_column != "text" else args.text_field
    s = score_archive(args.files, args.output, args.model, level=args.level, text_column=text_column,
                      id_column=args.id_column, article_column=args.article_column, para_column=args.para_column,
                      lang_column=args.lang_column, partition_rows=args.partition_rows, keep_text=args.keep_text,
                      num_workers=args.num_workers, cpus_per_worker=args.cpus_per_worker,
                      threads_per_worker=args.threads_per_worker, batch_size=args.batch_size, device=args.device,
                      precision=args.precision, backend=args.backend, overwrite=args.overwrite, progress=not args.quiet)
    if not args.quiet:
        print(f"done: {s.partitions} partitions in {s.output} ({s.skipped} finished earlier, {s.scored} scored "
              f"now: {s.rows} rows, {s.passages} passages, {s.seconds:.1f} s)", file=sys.stderr)
    return 0
