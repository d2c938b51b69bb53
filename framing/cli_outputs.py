"""Outputs of ``framing predict``: JSONL, CSV or an aligned table.

JSONL and table lines are written (and flushed) chunk by chunk; JSONL escapes
U+0085, U+2028 and U+2029, so even a reader that splits at Unicode line breaks
sees one record per line. CSV keeps every
field of every row: rows are spooled to a temporary file while the header is
collected over all of them (input fields first, in order of first appearance,
then the added ``pred_*`` columns), and written out at the end. Nested values
(JSON objects and lists) become JSON text in CSV cells. The table escapes
control and bidirectional-override characters, so input text cannot move the
cursor, recolour or reorder the terminal.
"""

from __future__ import annotations

import csv
import json
import re
import tempfile
from pathlib import Path

from .cli_inputs import reserved
from .labels import LABELS

TABLE_TEXT_WIDTH = 70
# C0/C1 controls, DEL, bidirectional controls and the Unicode line/paragraph separators.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069]")
# Unicode line breaks that json.dumps leaves raw: escaped so that any line splitter reads one row per line.
_JSON_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})
_EXPANDED = {"scores": "score", "label_share": "share", "length_weighted_share": "weighted_share"}


def escape_controls(text: str) -> str:
    """``text`` with every control character written as a visible escape (``\\x1b``, ``\\u202e``)."""
    return _UNSAFE.sub(lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}", text)


def flat_row(row: dict, prefix: str) -> dict:
    """One CSV row: score maps expanded into one column per label, other nested values as JSON text."""
    out = {}
    for key, value in row.items():
        name = key[len(prefix):] if key.startswith(prefix) else None
        if name in _EXPANDED and isinstance(value, dict):
            for lab in LABELS:
                out[f"{prefix}{_EXPANDED[name]}_{lab}"] = value.get(lab)
        elif isinstance(value, (dict, list)):
            out[key] = json.dumps(value, ensure_ascii=False)
        else:
            out[key] = value
    return out


class Writer:
    """Writes rows as JSONL, CSV or an aligned table to an open text file."""

    def __init__(self, fh, fmt: str, level: str, prefix: str):
        self.fh, self.fmt, self.level, self.p = fh, fmt, level, prefix
        self.added = reserved(prefix)
        self.spool = None
        self.fields: dict[str, None] = {}  # ordered set of the CSV columns seen so far
        self.added_fields: dict[str, None] = {}

    def write(self, rows: list[dict], texts: list[str]) -> None:
        """Write one chunk of rows (``texts`` are what the table shows for each)."""
        for row, text in zip(rows, texts):
            if self.fmt == "jsonl":
                self.fh.write(json.dumps(row, ensure_ascii=False).translate(_JSON_LINE_BREAKS) + "\n")
            elif self.fmt == "csv":
                self._spool(flat_row(row, self.p))
            else:
                self.fh.write(self._table_line(row, text) + "\n")
        self.fh.flush()

    def _spool(self, flat: dict) -> None:
        if self.spool is None:
            self.spool = tempfile.TemporaryFile("w+", encoding="utf-8")
        for key in flat:
            (self.added_fields if key in self.added else self.fields).setdefault(key, None)
        self.spool.write(json.dumps(flat, ensure_ascii=False) + "\n")

    def close(self) -> None:
        """Write what was held back (the CSV rows, once their header is known)."""
        if self.fmt != "csv" or self.spool is None:
            return
        header = [*self.fields, *self.added_fields]
        out = csv.DictWriter(self.fh, fieldnames=header, restval="")
        out.writeheader()
        self.spool.seek(0)
        for line in self.spool:
            out.writerow(json.loads(line))
        self.spool.close()
        self.fh.flush()

    def _table_line(self, row: dict, text: str) -> str:
        p = self.p
        line = row.get(f"{p}line")
        where = f"{Path(str(row.get(f'{p}source', ''))).name}:{line if line is not None else row.get(f'{p}passage', '')}"
        where = escape_controls(where)
        if self.level == "article":
            shares = " ".join(f"{lab.split('_')[0][:4]} {row[f'{p}label_share'].get(lab, 0):.0%}" for lab in LABELS)
            return (f"{where:<24} {str(row[f'{p}dominant_frame']):<17} {row[f'{p}n_passages']:>3} passages  "
                    f"{shares}")
        label = row[f"{p}label"] or "(empty)"
        scores = row.get(f"{p}scores")
        conf = f"{max(scores.values()):.2f}" if scores else "  - "
        shown = escape_controls(" ".join(text.split()))
        shown = shown if len(shown) <= TABLE_TEXT_WIDTH else shown[: TABLE_TEXT_WIDTH - 1] + "…"
        return f"{where:<24} {label:<17} {conf}  {shown}"
