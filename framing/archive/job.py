"""``score_archive()``: plan the inputs, check the output directory, score what is missing on Ray."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ArchiveError, UsageError
from . import manifest as manifest_mod
from .options import DEFAULT_BATCH_SIZE, ArchiveOptions
from .partitions import OutputDir, plan
from .sources import discover


@dataclass(frozen=True)
class ArchiveSummary:
    """What a run did: partitions in the plan, finished before, scored now; rows and passages scored now."""

    output: str
    partitions: int
    skipped: int
    scored: int
    rows: int
    passages: int
    seconds: float
    per_partition: list[dict] = field(default_factory=list, repr=False)

    @property
    def passages_per_second(self) -> float:
        return self.passages / self.seconds if self.seconds else 0.0


def _check_model(model: str) -> None:
    from ..inference import validate_model_dir

    if "://" not in model and Path(model).exists():
        validate_model_dir(Path(model))


def _absolute(uri: str) -> str:
    return (uri if "://" in uri else os.path.abspath(uri)).rstrip("/")


def _check_apart(inputs: list[str], output: str) -> None:
    """The output directory must not lie inside an input directory (a rerun would read its own output)."""
    out = _absolute(output)
    for given in inputs:
        src = _absolute(given)
        if out == src or out.startswith(src + "/") or src.startswith(out + "/"):
            raise ArchiveError(f"--output {output} and input {given} overlap; choose an output directory "
                               f"outside the inputs")


def score_archive(inputs: str | os.PathLike | Sequence[str | os.PathLike], output: str | os.PathLike,
                  model: str | os.PathLike | None = None, *,
                  level: str = "passage", text_column: str = "text", id_column: str | None = None,
                  article_column: str | None = None, para_column: str | None = None,
                  lang_column: str | None = None, partition_rows: int | None = None, keep_text: bool = False,
                  num_workers: int = 1, cpus_per_worker: float = 1, threads_per_worker: int | None = None,
                  batch_size: int = DEFAULT_BATCH_SIZE, device: str | None = None, precision: str = "auto",
                  backend: str = "auto", overwrite: bool = False, progress: bool = True,
                  _fault: Callable | None = None,
                  ) -> ArchiveSummary:
    """Score JSONL/parquet files (local or any pyarrow filesystem) on Ray Data into partitioned parquet.

    ``output`` gets one ``part-*.parquet`` per partition and ``_manifest.json``;
    a rerun with the same inputs, model and options scores only the partitions
    that are missing. Labels equal ``predict()``'s (passage mode) and
    ``score_article()``'s (article mode). Uses the Ray cluster this process is
    connected to (``ray.init()`` first, or ``RAY_ADDRESS``), else starts a local one.
    ``threads_per_worker`` (torch threads) defaults to ``cpus_per_worker``;
    ``device="cuda"`` gives each actor one GPU. ``backend`` is :func:`framing.predict`'s (``"auto"``:
    each worker's fastest faithful one for its thread count, see :mod:`framing.backends`).
    """
    from ..device import resolve_device
    from ..inference import default_model_path
    from .ray_engine import import_ray, run

    t0 = time.perf_counter()
    import_ray()  # the install hint before any work
    if num_workers < 1:
        raise UsageError(f"--num-workers must be at least 1, got {num_workers}")
    if batch_size < 1:
        raise UsageError(f"--batch-size must be at least 1, got {batch_size}")
    if cpus_per_worker <= 0:
        raise UsageError(f"--cpus-per-worker must be positive, got {cpus_per_worker}")
    opts = ArchiveOptions(level=level, text_column=text_column, id_column=id_column,
                          article_column=article_column, para_column=para_column, lang_column=lang_column,
                          partition_rows=partition_rows or ArchiveOptions.partition_rows, keep_text=keep_text,
                          precision=precision, backend=backend)
    model = str(model) if model is not None else default_model_path()
    if device and not str(device).startswith("cuda"):
        device = resolve_device(device)  # a cuda device is resolved by the actors (the driver may have no GPU)
    _check_model(model)
    given = [os.fspath(i) for i in ([inputs] if isinstance(inputs, (str, os.PathLike)) else inputs)]
    output = os.fspath(output)
    _check_apart(given, output)
    files = discover(given)
    parts = plan(files, opts, progress)
    out = OutputDir(output)
    finished = manifest_mod.prepare(out, manifest_mod.build(files, model, opts, parts), overwrite)
    todo = [p for p in parts if p.key not in finished]
    if progress:
        print(f"{len(parts)} partitions from {len(files)} files: {len(parts) - len(todo)} finished earlier, "
              f"{len(todo)} to score with {num_workers} worker(s)", file=sys.stderr)
    threads = threads_per_worker or max(1, int(cpus_per_worker))
    done = run(todo, out, model, opts, num_workers=num_workers, cpus_per_worker=cpus_per_worker, threads=threads,
               batch_size=batch_size, device=device, total=len(parts), progress=progress, fault=_fault)
    return ArchiveSummary(out.uri, len(parts), len(parts) - len(todo), len(done),
                          sum(d["rows"] for d in done), sum(d["passages"] for d in done),
                          time.perf_counter() - t0, done)
