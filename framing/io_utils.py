"""Output files: atomic for regular files, direct for FIFOs and devices, checked before any work.

A regular file (or a new one) is written to a temporary file beside it that
replaces it only when the block succeeds, so a reader never sees a half-written
file and a crash leaves the old one; the replaced file keeps its permission
bits, and a symbolic link is written through (its target is replaced, the link
stays). A FIFO or a character/block device (``/dev/null``, a terminal) is
opened and written to directly: replacing it would break whoever reads it.
A directory, a socket, or a place we cannot write is an
:class:`~framing.errors.OutputPathError`, raised by :func:`check_output_file`
before any work starts.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

from .errors import OutputPathError

NEW_FILE_MODE = 0o644


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_output_file(path: str | os.PathLike) -> str:
    """``"atomic"`` (regular or new file) or ``"direct"`` (FIFO, device) for ``path``, or an
    :class:`OutputPathError` saying why it cannot be written."""
    if str(path).endswith(("/", os.sep)):
        raise OutputPathError(f"{path} names a directory; give a file name to write")
    target = Path(os.path.realpath(path))
    try:
        st = os.stat(target)
    except (FileNotFoundError, NotADirectoryError):  # new file (or a parent that is a file: see below)
        st = None
    except OSError as exc:
        raise OutputPathError(f"{path}: cannot write: {exc.strerror or exc}") from None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise OutputPathError(f"{path} is a directory; give a file name to write")
        if stat.S_ISFIFO(st.st_mode) or stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
            if not os.access(target, os.W_OK):
                raise OutputPathError(f"{path}: cannot write: permission denied")
            return "direct"
        if not stat.S_ISREG(st.st_mode):
            raise OutputPathError(f"{path} is not a regular file, FIFO or device; refusing to write it")
        if not os.access(target, os.W_OK):
            raise OutputPathError(f"{path}: cannot write: the file is read-only")
    folder = _nearest_existing(target.parent)
    if not folder.is_dir():
        raise OutputPathError(f"{path}: cannot write: {folder} is not a directory")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputPathError(f"{path}: cannot write: no permission to create files in {folder}")
    return "atomic"


class AtomicWriter:
    """``with AtomicWriter(path) as fh: ...`` streams into a temporary file beside ``path`` that
    replaces ``path`` only when the block succeeds (bounded memory for large outputs). A FIFO or a
    device is written to directly (see the module docstring)."""

    def __init__(self, path: str | os.PathLike, binary: bool = False, newline: str | None = None):
        self.path, self.binary, self.newline = Path(path), binary, newline
        self.tmp: str | None = None

    def _open(self, fd_or_path):
        if self.binary:
            return open(fd_or_path, "wb")
        return open(fd_or_path, "w", encoding="utf-8", newline=self.newline)

    def __enter__(self):
        kind = check_output_file(self.path)
        self.target = Path(os.path.realpath(self.path))
        try:
            if kind == "direct":
                self.fh = self._open(self.target)
                return self.fh
            self.target.parent.mkdir(parents=True, exist_ok=True)
            try:
                self.mode = stat.S_IMODE(os.stat(self.target).st_mode)
            except FileNotFoundError:
                self.mode = NEW_FILE_MODE
            fd, self.tmp = tempfile.mkstemp(prefix=f".{self.target.name}.", suffix=".tmp", dir=self.target.parent)
        except OSError as exc:
            raise OutputPathError(f"{self.path}: cannot write: {exc.strerror or exc}") from None
        self.fh = self._open(fd)
        return self.fh

    def __exit__(self, exc_type, exc, tb):
        if self.tmp is None:  # written directly
            try:
                self.fh.close()
            except BrokenPipeError:
                pass
            return False
        try:
            if exc_type is None:
                self.fh.flush()
                os.fsync(self.fh.fileno())
        finally:
            self.fh.close()
        if exc_type is None:
            os.chmod(self.tmp, self.mode)
            os.replace(self.tmp, self.target)
        else:
            Path(self.tmp).unlink(missing_ok=True)
        return False


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with AtomicWriter(path, binary=True) as fh:
        fh.write(data)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def read_json_cache(path: str | os.PathLike) -> dict:
    """A JSON object cached on disk (a measurement cache); a missing, unreadable or non-object file is ``{}``."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
