"""The checkpoint folder of a training run (``OUTPUT_DIR.work/``): when to resume, when to start afresh.

A run resumes only from checkpoints of the same configuration *and the same
data*: the fingerprint combines the config with a content hash of the records
it trains on, so editing the corpus starts afresh. A finished run (marked when
``Trainer.train`` returned) is never resumed, so a rerun cannot train past
``max_steps``. Incomplete checkpoints (no ``trainer_state.json``, which the
Trainer writes last) are dropped before resuming. The folder is removed after
a successful run unless ``keep_checkpoints: true``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Sequence
from pathlib import Path

from .errors import OutputPathError
from .training_args import TrainConfig, config_fingerprint

FINGERPRINT_FILE = "config_fingerprint.txt"
FINISHED_FILE = "training_finished.json"
TRAINER_STATE = "trainer_state.json"  # transformers.trainer.TRAINER_STATE_NAME, written last in a checkpoint
HASH_CHARS = 16


def records_fingerprint(records: Sequence[dict]) -> str:
    """A content hash of ``records`` (order, ids, texts, labels and every other field)."""
    h = hashlib.sha256()
    for r in records:
        h.update(json.dumps(r, sort_keys=True, ensure_ascii=False).encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()[:HASH_CHARS]


def run_fingerprint(cfg: TrainConfig, records: Sequence[dict]) -> str:
    """What must match for a checkpoint to be resumed: the config and the records trained on."""
    return config_fingerprint(cfg, records_fingerprint(records))


def _checkpoint_complete(ckpt: Path) -> bool:
    try:
        json.loads((ckpt / TRAINER_STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return True


def drop_incomplete_checkpoints(work: Path) -> None:
    """Remove checkpoints that an interruption left half-written."""
    for ckpt in work.glob("checkpoint-*"):
        if ckpt.is_dir() and not _checkpoint_complete(ckpt):
            shutil.rmtree(ckpt, ignore_errors=True)


def remove_work_dir(work: Path) -> None:
    """Delete a checkpoint folder, its markers first (an interrupted delete never looks resumable)."""
    if not work.exists():
        return
    for marker in (*work.rglob(FINGERPRINT_FILE), *work.rglob(FINISHED_FILE)):
        marker.unlink(missing_ok=True)
    shutil.rmtree(work)


def prepare_work_dir(work: Path, cfg: TrainConfig, records: Sequence[dict]) -> bool:
    """Create ``work``; True when it holds an unfinished run of this config and data to resume."""
    fp = run_fingerprint(cfg, records)
    marker = work / FINGERPRINT_FILE
    if work.exists():
        drop_incomplete_checkpoints(work)
        same = marker.is_file() and marker.read_text().strip() == fp
        finished = (work / FINISHED_FILE).exists()
        checkpoints = any(work.glob("checkpoint-*"))
        if same and cfg.resume and not finished and checkpoints:
            return True
        if finished:
            print(f"note: {work} holds a finished run; training afresh", flush=True)
        elif not same and checkpoints:
            print(f"note: {work} holds checkpoints of another config or other data; starting afresh", flush=True)
        remove_work_dir(work)
    work.mkdir(parents=True)
    marker.write_text(fp + "\n")
    return False


def mark_finished(work: Path, global_step: int) -> None:
    """Record that training in ``work`` ran to its end (a rerun then starts afresh)."""
    (work / FINISHED_FILE).write_text(json.dumps({"global_step": global_step}) + "\n")


def _is_run_dir(d: Path) -> bool:
    """A folder that holds only what a framing run puts there (markers and checkpoint folders)."""
    return d.is_dir() and not d.is_symlink() and all(
        c.name in (FINGERPRINT_FILE, FINISHED_FILE)
        or (c.is_dir() and c.name.startswith(("checkpoint-", "tmp-checkpoint-"))) for c in d.iterdir())


def check_work_root(work_root: Path) -> None:
    """Refuse a checkpoint folder that holds anything but framing runs (it would be deleted)."""
    if not work_root.exists() and not work_root.is_symlink():
        return
    if not work_root.is_dir() or work_root.is_symlink():
        raise OutputPathError(f"{work_root} (the checkpoint folder of output_dir) exists and is not a folder; "
                              f"move it away")
    foreign = sorted(e.name for e in work_root.iterdir() if not _is_run_dir(e))
    if foreign:
        raise OutputPathError(f"{work_root} (the checkpoint folder of output_dir) holds {', '.join(foreign)}, "
                              f"which are not framing checkpoints; move them away")
