"""Read and validate annotated JSONL files (the record format of ANNOTATION.md).

Every problem is reported as a :class:`CorpusError` whose message starts with
``file:line:`` and says what is wrong, so that a person can fix the data without
reading a traceback. Validation covers: invalid UTF-8, malformed JSON, a line
that is not an object, missing or mistyped fields, unknown labels, empty text,
duplicate ids (across all files read together), and ``translated_from``
references to ids that do not exist.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .blank import is_blank
from .errors import CorpusError
from .jsonl import iter_jsonl
from .labels import LABELS, SPEAKERS

REQUIRED_FIELDS: dict[str, type] = {
    "id": str,
    "article_id": str,
    "para": int,
    "lang": str,
    "text": str,
    "label": str,
    "source": str,
}
OPTIONAL_FIELDS: dict[str, type] = {"note": str, "translated_from": str, "url": str, "outlet": str, "genre": str,
                                    "speaker": str}
COLUMNS: tuple[str, ...] = (*REQUIRED_FIELDS, "note", "translated_from", "speaker")
"""The columns every loaded record has (optional ones filled with "")."""

_LANG = re.compile(r"^[a-z]{2}$")


@dataclass(frozen=True)
class Origin:
    """Where a record was read from (kept beside the record for later error messages)."""

    path: str
    line: int


def _check_record(obj: object, path: Path, lineno: int) -> dict:
    if not isinstance(obj, dict):
        raise CorpusError(path, lineno, f"expected a JSON object, got {type(obj).__name__}")
    for field, typ in REQUIRED_FIELDS.items():
        if field not in obj:
            raise CorpusError(path, lineno, f"missing field '{field}'")
        value = obj[field]
        if typ is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise CorpusError(path, lineno, f"field '{field}' must be an integer, got {value!r}")
        if typ is str and not isinstance(value, str):
            raise CorpusError(path, lineno, f"field '{field}' must be a string, got {value!r}")
    for field, typ in OPTIONAL_FIELDS.items():
        if field in obj and obj[field] is not None and not isinstance(obj[field], typ):
            raise CorpusError(path, lineno, f"field '{field}' must be a string, got {obj[field]!r}")
    if obj["label"] not in LABELS:
        raise CorpusError(path, lineno, f"unknown label {obj['label']!r} (expected one of {', '.join(LABELS)})")
    if obj.get("speaker") and obj["speaker"] not in SPEAKERS:
        raise CorpusError(path, lineno, f"unknown speaker {obj['speaker']!r} (expected one of {', '.join(SPEAKERS)})")
    if is_blank(obj["text"]):
        raise CorpusError(path, lineno, f"empty text in record {obj['id']!r}")
    for field in ("id", "article_id", "source"):
        if not obj[field].strip():
            raise CorpusError(path, lineno, f"empty field '{field}'")
    if obj["para"] < 0:
        raise CorpusError(path, lineno, f"field 'para' must be >= 0, got {obj['para']}")
    if not _LANG.match(obj["lang"]):
        raise CorpusError(path, lineno, f"field 'lang' must be an ISO 639-1 code like 'en', got {obj['lang']!r}")
    if obj["source"] == "translation" and not obj.get("translated_from"):
        raise CorpusError(path, lineno, "a record with source 'translation' needs 'translated_from'")
    record = {c: obj[c] if c in REQUIRED_FIELDS else (obj.get(c) or "") for c in COLUMNS}
    for extra in ("url", "outlet", "genre"):
        if obj.get(extra):
            record[extra] = obj[extra]
    return record


def read_jsonl(path: str | Path) -> list[tuple[dict, Origin]]:
    """Validate one JSONL file record by record; blank lines are skipped."""
    path = Path(path)
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise CorpusError(path, None, f"cannot read file: {exc.strerror or exc}") from None
    with fh:
        return [(_check_record(obj, path, lineno), Origin(str(path), lineno))
                for lineno, obj in iter_jsonl(fh, str(path), error=CorpusError)]


def load_records(paths: Iterable[str | Path]) -> list[dict]:
    """Read and validate several JSONL files as one collection.

    Checks across files: ids are unique, every ``translated_from`` names a
    loaded record, and a translation shares its original's ``article_id`` (so
    that no split ever separates an article from its translations).
    """
    records: list[dict] = []
    origins: dict[str, Origin] = {}
    for path in paths:
        for record, origin in read_jsonl(path):
            rid = record["id"]
            if rid in origins:
                first = origins[rid]
                raise CorpusError(origin.path, origin.line,
                                  f"duplicate id {rid!r} (first seen at {first.path}:{first.line})")
            origins[rid] = origin
            records.append(record)
    by_id = {r["id"]: r for r in records}
    for r in records:
        src = r["translated_from"]
        if not src:
            continue
        o = origins[r["id"]]
        if src not in by_id:
            raise CorpusError(o.path, o.line, f"'translated_from' points at missing id {src!r}")
        if by_id[src]["article_id"] != r["article_id"]:
            raise CorpusError(o.path, o.line, f"translation of {src!r} must share its article_id "
                                              f"{by_id[src]['article_id']!r}, got {r['article_id']!r}")
    return records
