"""One reader for line-oriented data files: JSONL records (annotated corpus, CLI input) and CSV lines.

Lines end at ``\\n``, ``\\r\\n`` or ``\\r`` only: the line breaks that JSON and
CSV know. ``str.splitlines()`` also splits at U+2028, U+2029, U+0085, form
feeds and more, which valid JSON may hold raw inside a string, so it is never
used on data. Files are read as a stream, line by line (bounded memory), a
UTF-8 byte-order mark at the start is skipped, and every problem is raised as
the caller's :class:`~framing.errors.DataFileError` subclass with the file and
line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from .errors import DataFileError

BOM = b"\xef\xbb\xbf"


def iter_lines(stream: Iterable[bytes], name: str, *, errors: str = "strict", keepends: bool = False,
               error: type[DataFileError] = DataFileError, hint: str = "") -> Iterator[tuple[int, str]]:
    """``(line number, decoded line)`` for every line of a binary stream (or any iterable of bytes).

    ``errors`` is the UTF-8 decoding mode (``strict`` raises ``error`` naming the
    line and byte; ``replace`` substitutes U+FFFD); ``hint`` is appended to the
    invalid-UTF-8 message. With ``keepends`` each line keeps its line break (what
    the ``csv`` module needs for quoted fields that span lines).
    """
    lineno = 0
    try:
        for n, chunk in enumerate(stream):  # a binary file iterates at b"\n"
            if n == 0:
                chunk = chunk.removeprefix(BOM)
            for raw in chunk.splitlines(keepends=keepends):  # bytes split at \n, \r\n and \r only
                lineno += 1
                try:
                    yield lineno, raw.decode("utf-8", errors)
                except UnicodeDecodeError as exc:
                    raise error(name, lineno, f"invalid UTF-8 at byte {exc.start}{hint}") from None
    except OSError as exc:
        raise error(name, lineno + 1 if lineno else None, f"cannot read: {exc.strerror or exc}") from None


def parse_json_line(text: str, name: str, lineno: int, error: type[DataFileError] = DataFileError) -> object:
    """``json.loads`` of one line, every failure raised as ``error`` with the file and line."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(name, lineno, f"malformed JSON: {exc.msg} (column {exc.colno})") from None
    except RecursionError:
        raise error(name, lineno, "malformed JSON: nested too deeply") from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise error(name, lineno, f"malformed JSON: {exc}") from None


def iter_jsonl(stream: Iterable[bytes], name: str, *, errors: str = "strict",
               error: type[DataFileError] = DataFileError, hint: str = "") -> Iterator[tuple[int, object]]:
    """``(line number, parsed value)`` for every non-blank line of a JSONL stream."""
    for lineno, text in iter_lines(stream, name, errors=errors, error=error, hint=hint):
        if text.strip():
            yield lineno, parse_json_line(text, name, lineno, error)
