"""Inputs of ``framing predict``: ``.txt`` articles, ``.jsonl`` records and ``.csv`` rows, streamed.

JSONL and CSV (from a file or standard input) are read line by line through
:mod:`framing.jsonl`, so the first chunk is scored while the rest is still
being read and memory stays bounded. Every input field is passed through
unchanged; the fields the command adds carry a prefix (``pred_`` by default),
and an input that already has one of those names is refused rather than
overwritten.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from .errors import InputError
from .jsonl import iter_jsonl, iter_lines
from .labels import LABELS

FORMATS = ("txt", "jsonl", "csv")
UTF8_HINT = " (use --errors replace to substitute U+FFFD)"
CSV_FIELD_LIMIT = 2**31 - 1  # the csv module's default (128 KiB) is shorter than a long article
# Names of every field the command may add (before the prefix): passage and article level, CSV columns.
ADDED_FIELDS = ("source", "line", "passage", "start", "end", "text", "label", "scores", "empty", "dominant_frame",
                "n_passages", "label_share", "length_weighted_share", "passages",
                *(f"{kind}_{lab}" for kind in ("score", "share", "weighted_share") for lab in LABELS))


@dataclass
class Item:
    """One unit to score: its text, the input's own fields and where it came from."""

    text: str
    fields: dict = field(default_factory=dict)  # passed through unchanged
    source: str = ""
    line: int | None = None
    article: bool = False  # a whole .txt article (segmented at passage level) or one record's text


def reserved(prefix: str) -> frozenset[str]:
    """The output field names the command adds with ``prefix``."""
    return frozenset(prefix + name for name in ADDED_FIELDS)


def format_of(path: str, forced: str | None) -> str:
    """The input type of ``path`` from ``--input-format`` or its extension."""
    if path == "-":
        return forced or "txt"
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix in FORMATS:
        return suffix
    if forced:
        return forced
    raise InputError(path, None, f"unknown input type '.{suffix}' (expected .txt, .jsonl or .csv, or pass "
                                 f"--input-format)")


def check_input(path: str, forced: str | None) -> None:
    """Fail early (before the model loads) on a missing file or an unknown type."""
    format_of(path, forced)
    if path != "-" and not Path(path).exists():
        raise InputError(path, None, "no such file")
    if path != "-" and Path(path).is_dir():
        raise InputError(path, None, "is a directory, not an input file")


@contextmanager
def _open(path: str) -> Iterator[tuple[str, BinaryIO]]:
    if path == "-":
        yield "<stdin>", sys.stdin.buffer
        return
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise InputError(path, None, f"cannot read: {exc.strerror or exc}") from None
    with fh:
        yield path, fh


def _decode(raw: bytes, name: str, errors: str) -> str:
    try:
        return raw.decode("utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8", errors=errors)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(name, line, f"invalid UTF-8 at byte {exc.start}{UTF8_HINT}") from None


def _refuse_reserved(keys, taken: frozenset[str], name: str, line: int | None, prefix: str) -> None:
    clash = sorted(k for k in keys if k in taken)
    if clash:
        raise InputError(name, line, f"input field {clash[0]!r} would be overwritten by the output field of the "
                                     f"same name; choose another prefix for the added fields with --prefix "
                                     f"(now {prefix!r})")


def _jsonl_items(fh: BinaryIO, name: str, args, taken: frozenset[str]) -> Iterator[Item]:
    for lineno, obj in iter_jsonl(fh, name, errors=args.errors, error=InputError, hint=UTF8_HINT):
        if not isinstance(obj, dict) or not isinstance(obj.get(args.text_field), str):
            raise InputError(name, lineno, f"expected an object with a string field '{args.text_field}'")
        _refuse_reserved(obj, taken, name, lineno, args.prefix)
        yield Item(obj[args.text_field], obj, name, lineno)


def _csv_items(fh: BinaryIO, name: str, args, taken: frozenset[str]) -> Iterator[Item]:
    csv.field_size_limit(CSV_FIELD_LIMIT)
    lines = (text for _, text in iter_lines(fh, name, errors=args.errors, keepends=True, error=InputError,
                                            hint=UTF8_HINT))
    reader = csv.reader(lines)
    try:
        header = next(reader, None)
        if header is None or args.text_column not in header:
            raise InputError(name, None, f"no column '{args.text_column}' (columns: {header}); choose one "
                                         f"with --text-column")
        dupes = sorted({c for c in header if header.count(c) > 1})
        if dupes:
            raise InputError(name, 1, f"duplicate column {dupes[0]!r} in the header")
        _refuse_reserved(header, taken, name, 1, args.prefix)
        start = reader.line_num + 1
        for row in reader:
            if row:
                if len(row) > len(header):
                    raise InputError(name, start, f"{len(row)} fields, but the header has {len(header)} columns")
                fields = dict(zip(header, row + [""] * (len(header) - len(row))))
                yield Item(fields[args.text_column], fields, name, start)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise InputError(name, reader.line_num or None, f"malformed CSV: {exc}") from None


def iter_items(path: str, args) -> Iterator[Item]:
    """The texts of one input (``-`` is standard input), read as a stream."""
    fmt = format_of(path, args.input_format)
    taken = reserved(args.prefix)
    with _open(path) as (name, fh):
        if fmt == "txt":
            try:
                raw = fh.read()
            except OSError as exc:
                raise InputError(name, None, f"cannot read: {exc.strerror or exc}") from None
            yield Item(_decode(raw, name, args.errors), {}, name, None, article=True)
        elif fmt == "jsonl":
            yield from _jsonl_items(fh, name, args, taken)
        else:
            yield from _csv_items(fh, name, args, taken)
