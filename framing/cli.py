"""The ``framing`` command line: ``framing predict FILE... | -`` and ``framing serve``.

Inputs: ``.txt`` (one article per file), ``.jsonl`` (field ``text``; other fields
are passed through) and ``.csv`` (``--text-column``; other columns passed
through); ``-`` reads standard input (``--input-format``, default txt).
Outputs JSONL, CSV or a readable table, per passage or per article, to stdout or
``--output FILE`` (written atomically, never over an input file).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

from .blank import is_blank
from .labels import LABELS

CHUNK = 256  # passages (or articles) scored per call: bounded memory on large inputs
PROGRESS_MIN_ITEMS = 6
TABLE_TEXT_WIDTH = 70


class InputError(ValueError):
    """An input file is unreadable or malformed (the message names the file and line)."""


@dataclass
class Item:
    """One unit to score: its text and where it came from (fields passed through to the output)."""

    text: str
    meta: dict
    article: bool = False  # a whole .txt article (segmented at passage level) or one record's text


def _decode(raw: bytes, name: str, errors: str) -> str:
    try:
        return raw.decode("utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8", errors=errors)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(f"{name}:{line}: invalid UTF-8 at byte {exc.start} (use --errors replace to "
                         f"substitute U+FFFD)") from None


def _read(path: str, errors: str) -> tuple[str, str]:
    if path == "-":
        return "<stdin>", _decode(sys.stdin.buffer.read(), "<stdin>", errors)
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{path}: no such file")
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return path, _decode(raw, path, errors)


def _format_of(path: str, forced: str | None) -> str:
    if path == "-":
        return forced or "txt"
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix in ("txt", "jsonl", "csv"):
        return suffix
    if forced:
        return forced
    raise InputError(f"{path}: unknown input type '.{suffix}' (expected .txt, .jsonl or .csv, "
                     f"or pass --input-format)")


def iter_items(path: str, args: argparse.Namespace) -> Iterator[Item]:
    """The texts of one input file with their pass-through fields."""
    name, content = _read(path, args.errors)
    fmt = _format_of(path, args.input_format)
    if fmt == "txt":
        yield Item(content, {"source": name}, article=True)
    elif fmt == "jsonl":
        for lineno, line in enumerate(content.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{name}:{lineno}: malformed JSON: {exc.msg}") from None
            if not isinstance(obj, dict) or not isinstance(obj.get(args.text_field), str):
                raise InputError(f"{name}:{lineno}: expected an object with a string field '{args.text_field}'")
            text = obj.pop(args.text_field)
            yield Item(text, {"source": name, "line": lineno, **obj})
    else:
        reader = csv.DictReader(io.StringIO(content, newline=""))
        if reader.fieldnames is None or args.text_column not in reader.fieldnames:
            raise InputError(f"{name}: no column '{args.text_column}' (columns: {reader.fieldnames}); "
                             f"choose one with --text-column")
        for rowno, row in enumerate(reader, start=2):
            text = row.pop(args.text_column) or ""
            yield Item(text, {"source": name, "line": rowno, **row})


def _chunks(items: Iterator[Item], n: int) -> Iterator[list[Item]]:
    buf: list[Item] = []
    for it in items:
        buf.append(it)
        if len(buf) >= n:
            yield buf
            buf = []
    if buf:
        yield buf


def passage_rows(items: list[Item], args: argparse.Namespace) -> list[dict]:
    """Passage level: a .txt article is segmented into passages; a JSONL/CSV record is one passage."""
    from .context import contexts_in_order
    from .inference import predict
    from .segment import segment

    units: list[tuple[str, dict]] = []
    contexts: list[str] = []  # a .txt article's passages go with their context, as in score_article()
    for it in items:
        if it.article:
            passages = segment(it.text)
            contexts += contexts_in_order([p.text for p in passages])
            for p in passages:
                units.append((p.text, {**it.meta, "passage": p.index, "start": p.start, "end": p.end}))
        else:
            units.append((it.text, it.meta))
            contexts.append("")
    preds = predict([u[0] for u in units], args.model, batch_size=args.batch_size, device=args.device,
                    precision=args.precision, context=contexts) if units else []
    exps = _explanations([u[0] for u in units], args, contexts)
    return [passage_row(meta, pr, ex) for (_, meta), pr, ex in zip(units, preds, exps)]


def _explanations(texts: list[str], args: argparse.Namespace, contexts: list[str] | None = None) -> list:
    """``--explain``: one explanation per text (None each without the flag)."""
    if not getattr(args, "explain", False) or not texts:
        return [None] * len(texts)
    from .explain import explain

    return explain(texts, args.model, context=contexts, device=args.device, precision=args.precision)


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


def article_rows(items: list[Item], args: argparse.Namespace) -> list[dict]:
    """Article level: every text is an article, segmented and summarised."""
    from .context import contexts_in_order
    from .inference import score_article

    rows = []
    for it in items:
        if is_blank(it.text):
            rows.append(article_row(it.meta, None))
            continue
        a = score_article(it.text, args.model, batch_size=args.batch_size, device=args.device,
                          precision=args.precision)
        ptexts = [p.text for p in a.passages]
        rows.append(article_row(it.meta, a, _explanations(ptexts, args, contexts_in_order(ptexts))))
    return rows


def _flat(row: dict, level: str) -> dict:
    out = {k: v for k, v in row.items() if not isinstance(v, (dict, list))}
    if level == "passage":
        for lab in LABELS:
            out[f"score_{lab}"] = row.get("scores", {}).get(lab)
        if "explanation" in row:  # --explain: the span whose removal lowers the label's probability most
            top = max(row["explanation"]["spans"], key=lambda s: s["contribution"], default=None)
            out["evidence"] = top["text"] if top else None
            out["evidence_drop"] = top["contribution"] if top else None
    else:
        for lab in LABELS:
            out[f"share_{lab}"] = row["label_share"].get(lab)
            out[f"weighted_share_{lab}"] = row["length_weighted_share"].get(lab)
    return out


class Writer:
    """Writes rows as JSONL, CSV or an aligned table."""

    def __init__(self, fh, fmt: str, level: str):
        self.fh, self.fmt, self.level = fh, fmt, level
        self.csv: csv.DictWriter | None = None
        self.fields: list[str] = []

    def write(self, rows: list[dict]) -> None:
        for row in rows:
            if self.fmt == "jsonl":
                self.fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            elif self.fmt == "csv":
                flat = _flat(row, self.level)
                if self.csv is None:
                    self.fields = list(flat)
                    self.csv = csv.DictWriter(self.fh, fieldnames=self.fields, extrasaction="ignore")
                    self.csv.writeheader()
                self.csv.writerow({k: flat.get(k) for k in self.fields})
            else:
                self.fh.write(self._table_line(row) + "\n")

    def _table_line(self, row: dict) -> str:
        where = f"{Path(str(row.get('source', ''))).name}:{row.get('line', row.get('passage', ''))}"
        if self.level == "article":
            shares = " ".join(f"{lab.split('_')[0][:4]} {row['label_share'].get(lab, 0):.0%}" for lab in LABELS)
            return f"{where:<24} {str(row['dominant_frame']):<17} {row['n_passages']:>3} passages  {shares}"
        label = row["label"] or "(empty)"
        conf = f"{max(row['scores'].values()):.2f}" if row.get("scores") else "  - "
        text = " ".join(row["text"].split())
        text = text if len(text) <= TABLE_TEXT_WIDTH else text[: TABLE_TEXT_WIDTH - 1] + "…"
        return f"{where:<24} {label:<17} {conf}  {text}"


def cmd_predict(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from .inference import ModelDirectoryError, ModelNotFoundError

    inputs = [str(Path(p).resolve()) for p in args.files if p != "-"]
    if args.output and str(Path(args.output).resolve()) in inputs:
        print(f"error: --output {args.output} is one of the input files; refusing to overwrite it", file=sys.stderr)
        return 2
    if args.files.count("-") > 1:
        print("error: standard input ('-') can be read only once", file=sys.stderr)
        return 2
    rows_of = article_rows if args.level == "article" else passage_rows
    newline = "" if args.format == "csv" else None
    bar = None
    done = 0
    try:
        with _open_output(args.output, newline) as fh:
            writer = Writer(fh, args.format, args.level)
            for path in args.files:
                for chunk in _chunks(iter_items(path, args), CHUNK):
                    writer.write(rows_of(chunk, args))
                    done += len(chunk)
                    if bar is None and done >= PROGRESS_MIN_ITEMS and not args.quiet:
                        bar = tqdm(unit=" texts", file=sys.stderr, initial=done)
                    elif bar is not None:
                        bar.update(len(chunk))
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (ModelNotFoundError, ModelDirectoryError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        if bar is not None:
            bar.close()
    return 0


def _open_output(path: str | None, newline: str | None):
    from .io_utils import AtomicWriter

    if path:
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
    p.add_argument("--output", "-o", help="write here (atomically) instead of standard output")
    p.add_argument("--input-format", choices=("txt", "jsonl", "csv"), help="type of standard input or of "
                                                                           "files with another extension")
    p.add_argument("--text-field", default="text", help="JSONL field holding the text (default: text)")
    p.add_argument("--text-column", default="text", help="CSV column holding the text (default: text)")
    p.add_argument("--errors", choices=("strict", "replace"), default="strict",
                   help="invalid UTF-8: stop with an error (strict) or substitute U+FFFD (replace)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--device", default=None, help="cpu (default) or cuda")
    p.add_argument("--precision", choices=("auto", "bf16", "fp32"), default="auto")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.add_argument("--explain", action="store_true", help="add each passage's evidence: the drop in its label's "
                                                          "probability with each sentence (or clause) left out")
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
    s.set_defaults(func=cmd_serve)
    return ap


def cmd_serve(args: argparse.Namespace) -> int:
    """``framing serve``: lives in :mod:`framing.serve.server` (optional dependencies)."""
    from .serve.server import serve_command

    return serve_command(args)


def main(argv: list[str] | None = None) -> int:
    import os

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    args = build_parser().parse_args(argv)
    if getattr(args, "batch_size", 1) < 1:
        print("error: --batch-size must be at least 1", file=sys.stderr)
        return 2
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
