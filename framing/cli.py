"""The ``framing`` command line: ``framing predict FILE... | -`` and ``framing serve``.

Inputs: ``.txt`` (one article per file), ``.jsonl`` (field ``text``) and ``.csv``
(``--text-column``); ``-`` reads standard input (``--input-format``, default
txt). JSONL and CSV are streamed: results appear while a large input is still
being read. Every input field is passed through unchanged; the fields this
command adds start with ``pred_`` (``--prefix``): ``pred_label``, ``pred_scores``,
``pred_source`` and ``pred_line`` (where the text came from), and so on. Outputs
JSONL, CSV (every field of every row) or a readable table, per passage or per
article, to stdout (or ``-o -``) or ``--output FILE`` (written atomically, never
over an input file; a FIFO or device is written to directly).

``--engine ray`` scores JSONL or parquet files or directories (local or on any
filesystem pyarrow reads) on Ray Data into one parquet file per partition in
``--output DIR``; a rerun skips the finished partitions (``framing.archive``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import nullcontext

from .archive.cli import add_arguments as add_archive_arguments
from .cli_inputs import FORMATS, Item, check_input, iter_items
from .backends.base import BACKENDS
from .backends.bench_args import add_bench_arguments
from .cli_outputs import Writer
from .errors import FramingError, InputError, UsageError  # noqa: F401  (InputError: importable from here)

CHUNK = 256  # passages (or articles) scored per call: bounded memory on large inputs
PROGRESS_MIN_ITEMS = 6
DEFAULT_PREFIX = "pred_"
EXIT_USAGE = 2  # every error of the package: the message, then this status
BACKEND_HELP = ("inference backend (default auto: the fastest faithful one measured on this machine, see "
                "`framing bench`); onnx* need framing[onnx], openvino* framing[openvino]")
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a writer whose reader went away


def _chunks(items: Iterator[Item], n: int) -> Iterator[list[Item]]:
    buf: list[Item] = []
    for it in items:
        buf.append(it)
        if len(buf) >= n:
            yield buf
            buf = []
    if buf:
        yield buf


def _origin(it: Item, p: str) -> dict:
    return {f"{p}source": it.source, **({f"{p}line": it.line} if it.line is not None else {})}


def passage_rows(items: list[Item], args: argparse.Namespace) -> tuple[list[dict], list[str]]:
    """Passage level: a .txt article is segmented into passages; a JSONL/CSV record is one passage."""
    from .context import contexts_in_order
    from .inference import predict
    from .segment import segment

    p = args.prefix
    units: list[tuple[str, dict]] = []
    contexts: list[str] = []  # a .txt article's passages go with their context, as in score_article()
    for it in items:
        if it.article:
            segs = segment(it.text)
            contexts += contexts_in_order([s.text for s in segs])
            for s in segs:
                units.append((s.text, {**_origin(it, p), f"{p}passage": s.index, f"{p}start": s.start,
                                       f"{p}end": s.end, f"{p}text": s.text}))
        else:
            units.append((it.text, {**it.fields, **_origin(it, p)}))
            contexts.append("")
    preds = predict([u[0] for u in units], args.model, batch_size=args.batch_size, device=args.device,
                    precision=args.precision, backend=args.backend, context=contexts) if units else []
    exps = _explanations([u[0] for u in units], args, contexts)
    rows = [{**base, f"{p}label": pr.label, f"{p}scores": pr.scores, **({f"{p}empty": True} if pr.empty else {}),
             **({f"{p}explanation": ex.to_dict()} if ex is not None and not ex.empty else {})}
            for (_, base), pr, ex in zip(units, preds, exps)]
    return rows, [u[0] for u in units]


def _explanations(texts: list[str], args: argparse.Namespace, contexts: list[str] | None = None) -> list:
    """``--explain``: one explanation per text (None each without the flag)."""
    if not getattr(args, "explain", False) or not texts:
        return [None] * len(texts)
    from .explain import explain

    return explain(texts, args.model, context=contexts, device=args.device, precision=args.precision,
                   backend=args.backend)


def passage_row(meta: dict, pred, explanation=None) -> dict:
    """A passage's output row (also the REST API's): pass-through fields, text, label, scores."""
    row = {**meta, "text": pred.text, "label": pred.label, "scores": pred.scores,
           **({"empty": True} if pred.empty else {})}
    if explanation is not None and not explanation.empty:
        row["explanation"] = explanation.to_dict()
    return row


def article_row(meta: dict, article, explanations: list | None = None) -> dict:
    """An article's output row (also the REST API's); ``article`` None for a blank text."""
    if article is None:
        return {**meta, "dominant_frame": None, "n_passages": 0, "empty": True,
                "label_share": {}, "length_weighted_share": {}, "passages": []}
    exps = explanations or [None] * len(article.passages)
    return {**meta, "dominant_frame": article.dominant_frame, "n_passages": len(article.passages),
            "label_share": article.label_share, "length_weighted_share": article.length_weighted_share,
            "passages": [{"index": p.index, "start": p.start, "end": p.end, "text": p.text, "label": p.label,
                          "scores": p.scores, **({"explanation": e.to_dict()} if e is not None else {})}
                         for p, e in zip(article.passages, exps)]}


def article_rows(items: list[Item], args: argparse.Namespace) -> tuple[list[dict], list[str]]:
    """Article level: every text is an article, segmented and summarised."""
    from .blank import is_blank
    from .context import contexts_in_order
    from .inference import score_article

    p = args.prefix
    rows = []
    for it in items:
        base = {**it.fields, **_origin(it, p)}
        if is_blank(it.text):
            rows.append({**base, f"{p}dominant_frame": None, f"{p}n_passages": 0, f"{p}empty": True,
                         f"{p}label_share": {}, f"{p}length_weighted_share": {}, f"{p}passages": []})
            continue
        a = score_article(it.text, args.model, batch_size=args.batch_size, device=args.device,
                          precision=args.precision, backend=args.backend)
        ptexts = [x.text for x in a.passages]
        exps = _explanations(ptexts, args, contexts_in_order(ptexts))  # each passage with its context
        rows.append({**base, f"{p}dominant_frame": a.dominant_frame, f"{p}n_passages": len(a.passages),
                     f"{p}label_share": a.label_share, f"{p}length_weighted_share": a.length_weighted_share,
                     f"{p}passages": [{"index": s.index, "start": s.start, "end": s.end, "text": s.text,
                                       "label": s.label, "scores": s.scores,
                                       **({"explanation": e.to_dict()} if e is not None and not e.empty else {})}
                                      for s, e in zip(a.passages, exps)]})
    return rows, [it.text for it in items]


def _check_args(args: argparse.Namespace) -> None:
    """Everything that can be checked before the model loads and any input is read."""
    from .device import resolve_device
    from .io_utils import check_output_file

    if args.batch_size < 1:
        raise UsageError(f"--batch-size must be at least 1, got {args.batch_size}")
    if args.files.count("-") > 1:
        raise UsageError("standard input ('-') can be read only once")
    for path in args.files:
        check_input(path, args.input_format)
    if args.output not in (None, "-"):
        out = os.path.realpath(args.output)
        for path in args.files:
            if path != "-" and os.path.realpath(path) == out:
                raise UsageError(f"--output {args.output} is one of the input files; refusing to overwrite it")
        check_output_file(args.output)
    args.device = resolve_device(args.device)


def cmd_predict(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    if args.engine == "ray":  # archive scoring: framing.archive (Ray Data, partitioned parquet)
        from .archive.cli import run

        return run(args)

    from .inference import load_predictor

    rows_of = article_rows if args.level == "article" else passage_rows
    bar = None
    done = 0
    try:
        _check_args(args)
        with _open_output(args.output, "" if args.format == "csv" else None) as fh:
            load_predictor(args.model, args.device, args.precision, args.backend)  # errors before any output
            writer = Writer(fh, args.format, args.level, args.prefix)
            for path in args.files:
                for chunk in _chunks(iter_items(path, args), CHUNK):
                    writer.write(*rows_of(chunk, args))
                    done += len(chunk)
                    if bar is None and done >= PROGRESS_MIN_ITEMS and not args.quiet:
                        bar = tqdm(unit=" texts", file=sys.stderr, initial=done)
                    elif bar is not None:
                        bar.update(len(chunk))
            writer.close()
    except FramingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # e.g. `framing predict big.jsonl | head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    finally:
        if bar is not None:
            bar.close()
    return 0


def _open_output(path: str | None, newline: str | None):
    from .io_utils import AtomicWriter

    if path not in (None, "-"):
        return AtomicWriter(path, newline=newline)
    if newline == "":
        sys.stdout.reconfigure(newline="")
    return nullcontext(sys.stdout)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="framing", description="Label how news passages frame the Russia / US / "
                                                             "NATO security crisis.")
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("predict", help="label passages or articles from files or standard input",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", nargs="+", help=".txt, .jsonl or .csv files, or - for standard input")
    p.add_argument("--model", help="model directory or Hub id (default: $FRAMING_MODEL, else "
                                   "outputs/framing-e5-small)")
    p.add_argument("--level", choices=("passage", "article"), default="passage")
    p.add_argument("--format", choices=("jsonl", "csv", "table"), default="jsonl")
    p.add_argument("--output", "-o", help="write here (atomically; a FIFO or device directly) instead of "
                                          "standard output ('-')")
    p.add_argument("--input-format", choices=FORMATS, help="type of standard input or of files with another "
                                                           "extension")
    p.add_argument("--prefix", default=DEFAULT_PREFIX, help="prefix of the fields this command adds (default: "
                                                            "pred_); an input field of the same name is an error")
    p.add_argument("--text-field", default="text", help="JSONL field holding the text (default: text)")
    p.add_argument("--text-column", default="text", help="CSV column holding the text (default: text)")
    p.add_argument("--errors", choices=("strict", "replace"), default="strict",
                   help="invalid UTF-8: stop with an error (strict) or substitute U+FFFD (replace)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--device", default=None, help="cpu (default) or cuda")
    p.add_argument("--precision", choices=("auto", "bf16", "fp32"), default="auto")
    p.add_argument("--backend", choices=BACKENDS, default="auto", help=BACKEND_HELP)
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.add_argument("--explain", action="store_true", help="add each passage's evidence: the drop in its label's "
                                                          "probability with each sentence (or clause) left out")
    add_archive_arguments(p)
    p.set_defaults(func=cmd_predict)
    s = sub.add_parser("serve", help="the web page and REST API (pip install -e '.[app]')",
                       description="Serve the analysts' page at / and the REST API at /v1 (docs at /docs).")
    s.add_argument("--model", help="model directory or Hub id (default as for predict)")
    s.add_argument("--host", help="address to listen on (default 127.0.0.1: this machine only)")
    s.add_argument("--port", type=int, help="port (default 7860)")
    s.add_argument("--config", help="serve config YAML (default configs/serve.yaml)")
    s.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config field, e.g. limits.max_texts=100")
    s.add_argument("--no-merge", action="store_true", help="score one request at a time (no request merging)")
    s.add_argument("--device", default=None, help="cpu (default) or cuda")
    s.add_argument("--precision", choices=("auto", "bf16", "fp32"), default="auto")
    s.add_argument("--backend", choices=BACKENDS, default="auto", help=BACKEND_HELP)
    s.set_defaults(func=cmd_serve)
    b = sub.add_parser("bench", help="measure the inference backends on this machine and cache the result",
                       description="Measure every installed backend (speed, peak memory, agreement with torch "
                                   "fp32, macro-F1) on this machine, print the table with the CPU flags, and "
                                   "cache it for backend='auto'. Run it on a quiet machine.")
    add_bench_arguments(b)
    b.set_defaults(func=cmd_bench)
    return ap


def cmd_bench(args: argparse.Namespace) -> int:
    """``framing bench``: lives in :mod:`framing.backends.bench` (shared with scripts/bench_predict.py)."""
    from .backends.bench import bench_command

    return bench_command(args)


def cmd_serve(args: argparse.Namespace) -> int:
    """``framing serve``: lives in :mod:`framing.serve.server` (optional dependencies)."""
    from .serve.server import serve_command

    return serve_command(args)


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
