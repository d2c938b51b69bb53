"""Inputs of archive scoring: JSONL and parquet files, local or on any filesystem pyarrow reads.

An input is a file or a directory (searched recursively for ``*.jsonl`` and
``*.parquet``), given as a local path or a URI that
:meth:`pyarrow.fs.FileSystem.from_uri` knows (``s3://``, ``gs://``,
``hdfs://``, ``file://``). Files are listed in sorted order, so the same inputs
always give the same plan. A JSONL row is a non-blank line (lines end at
``\\n``, ``\\r\\n`` or ``\\r``, as everywhere in ``framing``: :mod:`framing.jsonl`);
a parquet row is a table row. Reading a block of rows touches only that block:
a JSONL block is a byte range found when the file was planned, a parquet block
the row groups that hold it. Every problem names the file (and the line or row).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass

from ..errors import InputError
from ..jsonl import BOM, iter_jsonl, parse_json_line
from .options import ArchiveOptions

SUFFIXES = {".jsonl": "jsonl", ".parquet": "parquet"}
READ_CHUNK = 1 << 20  # bytes read at a time when a JSONL file is scanned
OPTIONAL = ("id_column", "article_column", "para_column", "lang_column")


def filesystem(uri: str):
    """``(pyarrow filesystem, path in it)`` for a local path or a URI."""
    from pyarrow import fs

    target = uri if "://" in uri else os.path.abspath(uri)
    try:
        return fs.FileSystem.from_uri(target)
    except (ValueError, OSError) as exc:
        raise InputError(uri, None, f"cannot open: {exc}") from None


@dataclass(frozen=True)
class InputFile:
    """One input file: where it is, its type, the name its generated ids use, and what it was."""

    uri: str
    format: str
    name: str  # in generated ids: "NAME:LINE" (JSONL) or "NAME:ROW" (parquet)
    size: int
    mtime_ns: int | None

    def fingerprint(self) -> dict:
        """What the manifest records: a changed file is a different input."""
        return asdict(self)

    def open(self, random_access: bool = False):
        fs, path = filesystem(self.uri)
        try:
            return fs.open_input_file(path) if random_access else fs.open_input_stream(path, compression=None)
        except OSError as exc:
            raise InputError(self.uri, None, f"cannot read: {exc}") from None


def _join(base: str, rel: str) -> str:
    return base.rstrip("/") + "/" + rel


def discover(inputs: Sequence[str]) -> list[InputFile]:
    """The input files named by ``inputs`` (files or directories), in a fixed order."""
    from pyarrow import fs as pafs

    found: list[tuple[str, str, object]] = []  # (uri, name, FileInfo)
    for given in inputs:
        fs, path = filesystem(given)
        try:
            info = fs.get_file_info(path)
        except OSError as exc:
            raise InputError(given, None, f"cannot read: {exc}") from None
        if info.type == pafs.FileType.NotFound:
            raise InputError(given, None, "no such file or directory")
        if info.type == pafs.FileType.Directory:
            try:
                infos = fs.get_file_info(pafs.FileSelector(path, recursive=True))
            except OSError as exc:
                raise InputError(given, None, f"cannot list: {exc}") from None
            base = given if "://" in given else os.path.abspath(given)
            files = sorted((i for i in infos if i.type == pafs.FileType.File and _suffix(i.path) in SUFFIXES
                            and not any(part.startswith((".", "_")) for part in i.path[len(path):].split("/"))),
                           key=lambda i: i.path)
            if not files:
                raise InputError(given, None, f"no {' or '.join(SUFFIXES)} files in this directory")
            for i in files:
                rel = i.path[len(path):].lstrip("/")
                found.append((_join(base, rel), rel, i))
        else:
            if _suffix(path) not in SUFFIXES:
                raise InputError(given, None, f"unknown input type '{_suffix(path)}' (expected "
                                              f"{' or '.join(SUFFIXES)})")
            found.append((given if "://" in given else os.path.abspath(given), os.path.basename(path), info))
    names = [n for _, n, _ in found]
    unique = len(set(names)) == len(names)
    uris = [u for u, _, _ in found]
    if len(set(uris)) != len(uris):
        dup = next(u for u in uris if uris.count(u) > 1)
        raise InputError(dup, None, "given more than once")
    return [InputFile(uri, SUFFIXES[_suffix(uri)], name if unique else uri, info.size,
                      info.mtime_ns if info.mtime is not None else None) for uri, name, info in found]


def _suffix(path: str) -> str:
    return os.path.splitext(path)[1].lower()


# ---- columns ---------------------------------------------------------------------------------------------

def resolve_columns(file: InputFile, available: Sequence[str], opts: ArchiveOptions) -> dict[str, str | None]:
    """The columns this file's rows are read from: ``text`` always, the optional ones when present."""
    if opts.text_column not in available:
        raise InputError(file.uri, None, f"no column '{opts.text_column}' (columns: {sorted(available)}); "
                                         f"choose one with --text-column")
    cols: dict[str, str | None] = {"text": opts.text_column}
    for key in OPTIONAL:
        name, required = opts.column(key)
        if required and name not in available:
            raise InputError(file.uri, None, f"no column '{name}' (--{key.replace('_', '-')}; columns: "
                                             f"{sorted(available)})")
        cols[key.removesuffix("_column")] = name if name in available else None
    return cols


def parquet_file(file: InputFile):
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(file.open(random_access=True))
    except InputError:
        raise
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError ... on a file that is not parquet
        raise InputError(file.uri, None, f"not a readable parquet file: {exc}") from None


def parquet_columns(file: InputFile, pf, opts: ArchiveOptions) -> dict[str, str | None]:
    import pyarrow as pa

    schema = pf.schema_arrow
    cols = resolve_columns(file, schema.names, opts)
    t = schema.field(cols["text"]).type
    if not (pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)):
        raise InputError(file.uri, None, f"column '{cols['text']}' holds {t}, not text")
    return cols


# ---- JSONL scanning (planning) ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Mark:
    """Where a row starts: its index, byte offset and line (JSONL), and its article key (or None)."""

    row: int
    offset: int
    line: int
    article: tuple | None


def _raw_lines(stream) -> Iterator[bytes]:
    """Lines of a binary pyarrow stream, split like :func:`framing.jsonl.iter_lines` (ends kept): the
    stream is cut after ``\\n`` only (so ``\\r\\n`` stays whole), each piece split at every line break."""
    rest = b""
    while chunk := stream.read(READ_CHUNK):
        data = rest + chunk
        cut = data.rfind(b"\n")
        if cut < 0:
            rest = data
            continue
        yield from data[:cut + 1].splitlines(keepends=True)
        rest = data[cut + 1:]
    if rest:
        yield from rest.splitlines(keepends=True)


def jsonl_first_record(file: InputFile) -> dict:
    """The first record of a JSONL file (its keys decide the optional columns)."""
    with file.open() as stream:
        for lineno, obj in iter_jsonl(_raw_lines(stream), file.uri, error=InputError):
            if not isinstance(obj, dict):
                raise InputError(file.uri, lineno, f"expected a JSON object, got {type(obj).__name__}")
            return obj
    raise InputError(file.uri, None, "no records (the file is empty)")


def scan_jsonl(file: InputFile, article_of=None) -> Iterator[Mark]:
    """Every row of a JSONL file with its byte offset and line; ``article_of(obj, line)`` gives its key."""
    offset, line, row = 0, 0, 0
    with file.open() as stream:
        for n, raw in enumerate(_raw_lines(stream)):
            start = offset
            offset += len(raw)
            if n == 0 and raw.startswith(BOM):
                raw = raw[len(BOM):]
            line += 1
            if not raw.strip():
                continue
            key = None
            if article_of is not None:
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise InputError(file.uri, line, f"invalid UTF-8 at byte {exc.start}") from None
                obj = parse_json_line(text, file.uri, line, InputError)
                if not isinstance(obj, dict):
                    raise InputError(file.uri, line, f"expected a JSON object, got {type(obj).__name__}")
                key = article_of(obj, line)
            yield Mark(row, start, line, key)
            row += 1


# ---- reading a block -------------------------------------------------------------------------------------

@dataclass
class Rows:
    """The rows of one block, column by column (``where``: JSONL line or parquet row of each)."""

    texts: list[str | None]
    ids: list[str]
    articles: list[str | None]
    paras: list[int | None]
    langs: list[str | None]
    where: list[int]


def row_error(file: InputFile, where: int, problem: str) -> InputError:
    """An error at a JSONL line (``file:LINE: ...``) or a parquet row (``file: row N: ...``)."""
    if file.format == "jsonl":
        return InputError(file.uri, where, problem)
    return InputError(file.uri, None, f"row {where}: {problem}")


def _as_str(value, file: InputFile, where: int, what: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise row_error(file, where, f"{what} must be a string, got {type(value).__name__}")


def _as_int(value, file: InputFile, where: int, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise row_error(file, where, f"{what} must be an integer, got {value!r}")


class _BlockLineError(InputError):
    """A problem found by the line reader, numbered from the start of a block (renumbered for the file)."""


def read_jsonl_block(file: InputFile, cols: dict, start: int, end: int, first_line: int) -> Rows:
    """Rows of the byte range ``[start, end)`` of a JSONL file (``first_line``: the line at ``start``)."""
    with file.open(random_access=True) as fh:
        fh.seek(start)
        data = fh.read(end - start)
    out = Rows([], [], [], [], [], [])
    try:
        for n, obj in iter_jsonl(io.BytesIO(data), file.uri, error=_BlockLineError):
            _jsonl_row(out, file, cols, first_line + n - 1, obj)
    except _BlockLineError as exc:
        line = None if exc.line is None else first_line + exc.line - 1
        raise InputError(file.uri, line, exc.problem) from None
    return out


def _jsonl_row(out: Rows, file: InputFile, cols: dict, line: int, obj) -> None:
    if not isinstance(obj, dict):
        raise InputError(file.uri, line, f"expected a JSON object, got {type(obj).__name__}")
    if cols["text"] not in obj:
        raise InputError(file.uri, line, f"no field '{cols['text']}' (choose one with --text-column)")
    text = obj[cols["text"]]
    if text is not None and not isinstance(text, str):
        raise InputError(file.uri, line, f"field '{cols['text']}' must be a string, got {type(text).__name__}")
    _append(out, file, line, text, {k: obj.get(cols[k]) if cols[k] else None for k in OPTIONAL_KEYS},
            f"{file.name}:{line}")


OPTIONAL_KEYS = tuple(k.removesuffix("_column") for k in OPTIONAL)


def _append(out: Rows, file: InputFile, where: int, text, values: dict, generated_id: str) -> None:
    out.texts.append(text)
    rid = _as_str(values["id"], file, where, "the id")
    out.ids.append(rid if rid is not None else generated_id)
    out.articles.append(_as_str(values["article"], file, where, "the article id"))
    out.paras.append(_as_int(values["para"], file, where, "para"))
    out.langs.append(_as_str(values["lang"], file, where, "lang"))
    out.where.append(where)


def read_parquet_block(file: InputFile, cols: dict, start: int, end: int) -> Rows:
    """Rows ``[start, end)`` of a parquet file, reading only the row groups that hold them."""
    pf = parquet_file(file)
    names = [c for c in (cols["text"], *(cols[k] for k in OPTIONAL_KEYS)) if c]
    groups, first, offset = [], None, 0
    for g in range(pf.metadata.num_row_groups):
        n = pf.metadata.row_group(g).num_rows
        if offset < end and offset + n > start:
            groups.append(g)
            first = offset if first is None else first
        offset += n
    table = pf.read_row_groups(groups, columns=list(dict.fromkeys(names))) if groups else None
    out = Rows([], [], [], [], [], [])
    if table is None:
        return out
    table = table.slice(start - first, end - start)
    data = {c: table.column(c).to_pylist() for c in dict.fromkeys(names)}
    for i in range(table.num_rows):
        row = start + i
        values = {k: data[cols[k]][i] if cols[k] else None for k in OPTIONAL_KEYS}
        _append(out, file, row, data[cols["text"]][i], values, f"{file.name}:{row}")
    return out
