"""Where a trained model may be written, and how it replaces the previous one.

``scripts/train.py`` replaces its ``output_dir`` wholesale, so only something
that is safe to lose may be there: nothing, an empty folder, or a previous
framing model directory that holds nothing but model files. Anything else (a
regular file, a folder with other contents, ``.``, the current directory or one
of its parents, a symbolic link) stops the run before training with an
:class:`~framing.errors.OutputPathError`. :func:`replace_dir` swaps the new model
in with SIGINT and SIGTERM held back, so an interrupted run leaves either the
previous model or the complete new one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import OutputPathError
from .model_checks import MODEL_TYPE

# Every file a framing model directory may hold (what save_model_dir and save_pretrained write).
MODEL_FILES = frozenset({
    "config.json", "model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
    "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
    "sentencepiece.bpe.model", "spiece.model", "vocab.txt", "chat_template.jinja", "generation_config.json",
    "modeling.py", "metrics.json", "training_config.yaml", "confusion_matrix.png", "README.md",
})
SHARD = re.compile(r"^model-\d{5}-of-\d{5}\.safetensors$")
SHOWN_NAMES = 5  # how many foreign entries an error message lists
HELD_SIGNALS = tuple(s for s in (getattr(signal, "SIGINT", None), getattr(signal, "SIGTERM", None)) if s)


def is_framing_model_dir(path: Path) -> bool:
    """True when ``path/config.json`` declares a framing model."""
    try:
        cfg = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(cfg, dict) and cfg.get("model_type") == MODEL_TYPE


def _names(entries: list[Path]) -> str:
    shown = ", ".join(sorted(e.name + ("/" if e.is_dir() else "") for e in entries)[:SHOWN_NAMES])
    return shown + (f" and {len(entries) - SHOWN_NAMES} more" if len(entries) > SHOWN_NAMES else "")


def _is_export(entry: Path) -> bool:
    """A backend export cached beside the model (``onnx/``, ``.onnx.lock``, ...): derived from the
    weights, so replacing the model may delete it (it is made again on the next use)."""
    from .backends.export import EXPORT_KINDS

    return ((entry.is_dir() and entry.name in EXPORT_KINDS)
            or (entry.is_file() and entry.name in {f".{k}.lock" for k in EXPORT_KINDS}))


def check_model_output_dir(path: str | os.PathLike, key: str = "output_dir") -> Path:
    """``path`` as a ``Path`` if a trained model may be written there, else :class:`OutputPathError`."""
    raw = str(path)
    out = Path(raw).expanduser()
    if not raw.strip() or out.name in ("", ".", ".."):
        raise OutputPathError(f"{key}={raw!r} must name a folder for the model (e.g. outputs/my-model), "
                              f"not the current or a parent directory")
    resolved, cwd = out.resolve(), Path.cwd().resolve()
    if resolved == cwd or resolved in cwd.parents:
        raise OutputPathError(f"{key}={raw!r} is the current directory or contains it; choose a folder of its own")
    if out.is_symlink():
        raise OutputPathError(f"{key}={raw!r} is a symbolic link; give the folder it points to")
    if out.exists() and not out.is_dir():
        raise OutputPathError(f"{key}={raw!r} is a file, not a model directory; choose another {key} "
                              f"or move the file")
    if out.is_dir():
        entries = list(out.iterdir())
        if entries and not is_framing_model_dir(out):
            raise OutputPathError(f"{key}={raw!r} exists and is not a framing model directory (it holds "
                                  f"{_names(entries)}); only a previous framing model is replaced: choose "
                                  f"another {key} or empty it")
        foreign = [e for e in entries if not (e.is_file() and (e.name in MODEL_FILES or SHARD.match(e.name)))
                   and not _is_export(e)]
        if foreign:
            raise OutputPathError(f"{key}={raw!r} is a framing model directory but also holds "
                                  f"{_names(foreign)}, which replacing it would delete; move them first")
    folder = out.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise OutputPathError(f"{key}={raw!r}: cannot create folders in {folder}")
    return out


@contextmanager
def held_signals() -> Iterator[None]:
    """Delay SIGINT and SIGTERM until the block is done (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    previous = {s: signal.signal(s, lambda signum, frame: pending.append(signum)) for s in HELD_SIGNALS}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler if handler is not None else signal.SIG_DFL)
        for s in pending:
            signal.raise_signal(s)


def replace_dir(new: Path, out: Path) -> None:
    """Move the finished directory ``new`` to ``out``, replacing a previous ``out`` (never half-swapped)."""
    old = None
    with held_signals():
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
            os.replace(out, old)  # onto the empty placeholder
        try:
            os.replace(new, out)
        except BaseException:
            if old is not None:
                os.replace(old, out)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
