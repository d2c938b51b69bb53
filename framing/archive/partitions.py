"""The partition plan of an archive run, and the output directory that makes a run resumable.

Plan: every input file is cut into blocks of ``partition_rows`` rows, in file
order; in passage mode with an article column a block is extended to the end
of the article it is in, so each article (its passages and their context) lies
in one partition. The plan depends only on the inputs and the options, so a
rerun finds the same partitions under the same keys (``part-FFFFF-BBBBBB``:
file and block number).

Output: one parquet file per partition, ``OUTPUT/part-FFFFF-BBBBBB.parquet``,
written to ``OUTPUT/_tmp/`` and moved into place when complete. A partition is
finished exactly when its file exists; a crash leaves at most a temporary file,
which the next run removes before it scores what is missing.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass

from ..errors import InputError, OutputPathError
from .options import ArchiveOptions
from .sources import (InputFile, Mark, filesystem, jsonl_first_record, parquet_columns, parquet_file,
                      resolve_columns, row_error, scan_jsonl)

PART_PREFIX = "part-"
PART_SUFFIX = ".parquet"
TMP_DIR = "_tmp"
MANIFEST = "_manifest.json"


@dataclass(frozen=True)
class Partition:
    """One block of one input file: rows ``[start, end)`` (JSONL: bytes ``[byte_start, byte_end)``)."""

    key: str
    file: InputFile
    columns: dict
    start: int
    end: int
    byte_start: int = 0
    byte_end: int = 0
    first_line: int = 0

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Partition":
        d = json.loads(text)
        return cls(**{**d, "file": InputFile(**d["file"])})


def partition_key(file_index: int, block: int) -> str:
    return f"{PART_PREFIX}{file_index:05d}-{block:06d}"


def _cut(marks: Iterator[Mark], k: int, file: InputFile) -> list[tuple[Mark, int, int]]:
    """Blocks ``(first mark, end row, end offset)`` of about ``k`` rows, never splitting an article."""
    blocks: list[tuple[Mark, int, int]] = []
    first: Mark | None = None
    count, prev, seen = 0, None, set()
    for m in marks:
        if m.article is not None and m.article != prev:
            if m.article in seen:
                raise row_error(file, m.line if file.format == "jsonl" else m.row,
                                f"the passages of article {m.article[0]!r} are not contiguous (the article "
                                f"appeared earlier in the file); sort the input by article so that each "
                                f"article's passages are together")
            seen.add(m.article)
        if first is None:
            first = m
        elif count >= k and (m.article is None or m.article != prev):
            blocks.append((first, m.row, m.offset))
            first, count = m, 0
        count += 1
        prev = m.article
    if first is not None:
        blocks.append((first, first.row + count, file.size))
    return blocks


def _article_keys(values: list, langs: list | None) -> list[tuple | None]:
    return [None if a is None else (str(a), None if langs is None else langs[i]) for i, a in enumerate(values)]


def plan_file(index: int, file: InputFile, opts: ArchiveOptions) -> list[Partition]:
    """The partitions of one input file (its columns checked on the way)."""
    k = opts.partition_rows
    if file.format == "parquet":
        pf = parquet_file(file)
        cols = parquet_columns(file, pf, opts)
        n = pf.metadata.num_rows
        if opts.level == "passage" and cols["article"]:
            names = [c for c in (cols["article"], cols["lang"]) if c]
            t = pf.read(columns=names)
            langs = t.column(cols["lang"]).to_pylist() if cols["lang"] else None
            keys = _article_keys(t.column(cols["article"]).to_pylist(), langs)
            blocks = [(m.row, end) for m, end, _ in
                      _cut((Mark(i, 0, 0, key) for i, key in enumerate(keys)), k, file)]
        else:
            blocks = [(s, min(s + k, n)) for s in range(0, n, k)]
        return [Partition(partition_key(index, b), file, cols, s, e) for b, (s, e) in enumerate(blocks)]
    first = jsonl_first_record(file)
    cols = resolve_columns(file, list(first), opts)
    article_of = None
    if opts.level == "passage" and cols["article"]:
        acol, lcol = cols["article"], cols["lang"]

        def article_of(obj: dict, line: int) -> tuple | None:
            a = obj.get(acol)
            return None if a is None else (str(a), obj.get(lcol) if lcol else None)
    blocks = _cut(scan_jsonl(file, article_of), k, file)
    return [Partition(partition_key(index, b), file, cols, m.row, end, m.offset, end_off, m.line)
            for b, (m, end, end_off) in enumerate(blocks)]


def plan(files: list[InputFile], opts: ArchiveOptions, progress: bool = False) -> list[Partition]:
    """The partitions of all inputs, in order."""
    from tqdm import tqdm

    out: list[Partition] = []
    for i, f in enumerate(tqdm(files, desc="planning", unit=" files", disable=not progress or len(files) < 2)):
        out += plan_file(i, f, opts)
    return out


def plan_digest(parts: list[Partition]) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.to_json().encode() + b"\n")
    return h.hexdigest()


class OutputDir:
    """The output directory (local or any pyarrow filesystem): manifest, finished partitions, atomic writes."""

    def __init__(self, uri: str):
        self.uri = uri
        try:
            self.fs, self.path = filesystem(uri)
        except InputError as exc:
            raise OutputPathError(f"--output {uri}: {exc.problem}") from None
        self.path = self.path.rstrip("/") or "/"

    def _p(self, *names: str) -> str:
        return "/".join([self.path.rstrip("/"), *names])

    def _info(self, path: str):
        try:
            return self.fs.get_file_info(path)
        except OSError as exc:
            raise OutputPathError(f"--output {self.uri}: cannot read: {exc}") from None

    def entries(self) -> list[str]:
        """Names directly in the directory ([] when it does not exist)."""
        from pyarrow import fs as pafs

        info = self._info(self.path)
        if info.type == pafs.FileType.NotFound:
            return []
        if info.type != pafs.FileType.Directory:
            raise OutputPathError(f"--output {self.uri} is a file; give a directory for the partitions")
        infos = self.fs.get_file_info(pafs.FileSelector(self.path, recursive=False))
        return [i.base_name for i in infos]

    @staticmethod
    def ours(name: str) -> bool:
        return name in (MANIFEST, TMP_DIR) or (name.startswith(PART_PREFIX) and name.endswith(PART_SUFFIX))

    def read_manifest(self) -> dict | None:
        try:
            with self.fs.open_input_stream(self._p(MANIFEST)) as fh:
                return json.loads(fh.read().decode("utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise OutputPathError(f"{self.uri}/{MANIFEST}: unreadable: {exc}") from None

    def write_manifest(self, manifest: dict) -> None:
        self._put(MANIFEST, (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))

    def finished(self) -> set[str]:
        """Keys of the partitions whose file is in place."""
        return {n[: -len(PART_SUFFIX)] for n in self.entries()
                if n.startswith(PART_PREFIX) and n.endswith(PART_SUFFIX)}

    def clear(self) -> None:
        """Remove every file a run writes (``--overwrite``); other files are left alone."""
        for name in self.entries():
            if self.ours(name):
                path = self._p(name)
                if name == TMP_DIR:
                    self.fs.delete_dir(path)
                else:
                    self.fs.delete_file(path)

    def clean_tmp(self) -> None:
        """Remove what a crashed run left half-written."""
        if TMP_DIR in self.entries():
            self.fs.delete_dir_contents(self._p(TMP_DIR))

    def create(self) -> None:
        try:
            self.fs.create_dir(self._p(TMP_DIR), recursive=True)
        except OSError as exc:
            raise OutputPathError(f"--output {self.uri}: cannot create: {exc}") from None

    def _put(self, name: str, data: bytes) -> None:
        tmp = self._p(TMP_DIR, f"{name}.{uuid.uuid4().hex}.tmp")
        with self.fs.open_output_stream(tmp) as fh:
            fh.write(data)
        self.fs.move(tmp, self._p(name))

    def write_partition(self, key: str, table, fault=None) -> None:
        """Write one partition's table: to ``_tmp/`` first, then moved into place (never half-visible)."""
        import pyarrow.parquet as pq

        tmp = self._p(TMP_DIR, f"{key}.{uuid.uuid4().hex}{PART_SUFFIX}")
        pq.write_table(table, tmp, filesystem=self.fs)
        if fault is not None:
            fault(key, "written")
        self.fs.move(tmp, self._p(key + PART_SUFFIX))

    def partition_uri(self, key: str) -> str:
        return f"{self.uri.rstrip('/')}/{key}{PART_SUFFIX}"
