"""The Ray Data pipeline: partitions -> ``map_batches`` over a pool of scoring actors -> parquet files.

The dataset holds one row per unfinished partition. ``map_batches(PartitionScorer,
batch_size=1, compute=ActorPoolStrategy(size=N))`` (``concurrency=N`` before Ray
2.51) hands each partition to one of N actors; an actor
loads the model once (:func:`framing.inference.load_predictor`), then for every
partition reads its rows straight from the input filesystem, scores them
(:mod:`framing.archive.scoring`) and writes the partition's file atomically
(:class:`framing.archive.partitions.OutputDir`). What flows back to the driver
is a one-line summary per partition, which drives the progress bar. Reading in
the actor keeps each partition whole (an article and its context never spans
two actors) and the output keyed by partition, which is what makes a rerun
skip exactly the finished ones.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable

from ..errors import ArchiveError, FramingError
from .options import ArchiveOptions
from .partitions import OutputDir, Partition
from .scoring import score_rows
from .sources import read_jsonl_block, read_parquet_block

RAY_HINT = 'archive scoring needs Ray Data: pip install "framing[ray]"'
MODEL_CACHE = "framing-archive-models"


def import_ray():
    """``ray`` with Ray Data, or an :class:`ArchiveError` saying how to install it."""
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise ArchiveError(RAY_HINT) from None
    return ray


def local_model(model: str) -> str:
    """A model on a remote filesystem (``s3://...``) copied once to this machine; a local one as is."""
    if "://" not in model:
        return model
    import hashlib
    import tempfile

    from pyarrow import fs

    target = os.path.join(tempfile.gettempdir(), MODEL_CACHE, hashlib.sha256(model.encode()).hexdigest()[:16])
    if not os.path.isfile(os.path.join(target, "config.json")):
        tmp = f"{target}.{os.getpid()}.tmp"
        fs.copy_files(model, tmp)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.replace(tmp, target)
    return target


class PartitionScorer:
    """A Ray Data actor: loads the model once, then scores and writes one partition per call."""

    def __init__(self, model: str, output: str, options: dict, batch_size: int, device: str | None,
                 threads: int | None, fault: Callable | None = None):
        if threads:
            import torch

            torch.set_num_threads(threads)
        from ..inference import load_predictor

        self.model = local_model(model)
        self.opts = ArchiveOptions(**options)
        self.out = OutputDir(output)
        self.batch_size, self.device, self.fault = batch_size, device, fault
        load_predictor(self.model, device, self.opts.precision, self.opts.backend)

    def __call__(self, batch: dict) -> dict:
        keys, rows, passages, seconds = [], [], [], []
        for spec in batch["spec"]:
            t0 = time.perf_counter()
            part = Partition.from_json(str(spec))
            if part.file.format == "jsonl":
                data = read_jsonl_block(part.file, part.columns, part.byte_start, part.byte_end, part.first_line)
            else:
                data = read_parquet_block(part.file, part.columns, part.start, part.end)
            table = score_rows(data, self.model, self.opts, batch_size=self.batch_size, device=self.device)
            if self.fault is not None:
                self.fault(part.key, "scored")
            self.out.write_partition(part.key, table, self.fault)
            keys.append(part.key)
            rows.append(len(data.texts))
            passages.append(table.num_rows)
            seconds.append(time.perf_counter() - t0)
        return {"key": keys, "rows": rows, "passages": passages, "seconds": seconds}


def framing_cause(exc: BaseException) -> FramingError | None:
    """The package's own error inside what Ray raised on the driver (Ray wraps worker exceptions)."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        cause = getattr(e, "cause", None)
        if isinstance(e, FramingError) and not hasattr(e, "cause"):
            return e
        stack += [cause, e.__cause__, e.__context__]
    return None


def run(todo: list[Partition], out: OutputDir, model: str, opts: ArchiveOptions, *, num_workers: int,
        cpus_per_worker: float, threads: int | None, batch_size: int, device: str | None, total: int,
        progress: bool, fault: Callable | None = None) -> list[dict]:
    """Score ``todo`` on the Ray cluster this process is connected to; one summary dict per partition."""
    ray = import_ray()
    from tqdm import tqdm

    if not ray.is_initialized():
        ray.init(log_to_driver=progress)
    if not todo:
        return []
    ctx = ray.data.DataContext.get_current()
    saved = ctx.enable_progress_bars, ctx.raise_original_map_exception
    # a worker's InputError reaches the driver as itself (with file and line), not as Ray's UserCodeException
    ctx.enable_progress_bars, ctx.raise_original_map_exception = progress, True
    gpus = 1 if device and str(device).startswith("cuda") else 0
    workers = min(num_workers, len(todo))  # no actor (and model load) without a partition for it
    done: list[dict] = []
    bar = tqdm(total=total, initial=total - len(todo), unit=" partitions", desc="partitions", file=sys.stderr,
               disable=not progress)
    try:
        ds = ray.data.from_items([{"spec": p.to_json()} for p in todo], override_num_blocks=len(todo))
        ds = ds.map_batches(PartitionScorer, batch_size=1, compute=ray.data.ActorPoolStrategy(size=workers),
                            num_cpus=cpus_per_worker, num_gpus=gpus, fn_constructor_kwargs={
                                "model": model, "output": out.uri, "options": opts.to_dict(),
                                "batch_size": batch_size, "device": device, "threads": threads, "fault": fault})
        for row in ds.iter_rows():
            done.append(dict(row))
            bar.update(1)
    except Exception as exc:
        cause = framing_cause(exc)
        if cause is not None:
            raise cause from None
        raise
    finally:
        bar.close()
        ctx.enable_progress_bars, ctx.raise_original_map_exception = saved
    return done
