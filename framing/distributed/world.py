"""Which process of a data-parallel run this is, and how the processes agree.

The launcher (``accelerate launch --multi_gpu``, ``torchrun``, ``mpirun``) tells
each process its rank and the world size through the environment; accelerate's
``PartialState`` reads it and opens the process group (gloo on CPU, NCCL on
GPUs), which transformers' ``Trainer`` then reuses. Decisions that touch shared
state (the checkpoint folder, the measured precision) are made once, on rank 0,
and broadcast; everything written to ``output_dir`` is written by rank 0 alone.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from ..errors import ConfigError, FramingError

MAIN_RANK = 0
# How long a process waits for the others at a collective. Rank 0 alone scores the seed hold-out model
# and evaluates and writes the final model while the others wait (a minute or two for the default run
# on 2 CPU cores); a process that crashes ends the others through the launcher well before this.
PROCESS_GROUP_TIMEOUT_S = 4 * 3600

T = TypeVar("T")


class OtherProcessFailed(FramingError, RuntimeError):
    """Rank 0 failed at a step it does for every process; raised in the other processes."""


@dataclass(frozen=True)
class World:
    """This process's place in the run: a plain ``python scripts/train.py`` is ``World()``, one process."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0
    local_size: int = 1
    backend: str | None = None

    @property
    def is_main(self) -> bool:
        return self.rank == MAIN_RANK

    @property
    def distributed(self) -> bool:
        return self.size > 1

    def describe(self) -> str:
        """E.g. ``1 process`` or ``2 data-parallel processes (gloo), 2 on this machine``."""
        if not self.distributed:
            return "1 process"
        return f"{self.size} data-parallel processes ({self.backend}), {self.local_size} on this machine"


def training_on_cuda() -> bool:
    """True when training goes to GPUs: CUDA is there and the launcher did not ask for the CPU."""
    import torch
    from accelerate.utils import parse_flag_from_env

    return torch.cuda.is_available() and not parse_flag_from_env("ACCELERATE_USE_CPU")


def init_world(cuda: bool) -> World:
    """Join the process group the launcher set up (a no-op for a single process) and say where we are."""
    from accelerate.utils import get_cpu_distributed_information

    info = get_cpu_distributed_information()  # RANK / WORLD_SIZE / LOCAL_*, or their MPI equivalents
    if info.world_size <= 1:
        return World()
    import torch.distributed as dist

    if not dist.is_initialized():
        from accelerate import PartialState

        PartialState(cpu=not cuda, timeout=timedelta(seconds=PROCESS_GROUP_TIMEOUT_S))
    return World(dist.get_rank(), dist.get_world_size(), info.local_rank, info.local_world_size,
                 str(dist.get_backend()))


def barrier(world: World) -> None:
    """Wait until every process gets here."""
    if world.distributed:
        import torch.distributed as dist

        dist.barrier()


def broadcast(value: T, world: World) -> T:
    """Rank 0's ``value`` in every process (any picklable object)."""
    if not world.distributed:
        return value
    import torch.distributed as dist

    box = [value if world.is_main else None]
    dist.broadcast_object_list(box, src=MAIN_RANK)
    return box[0]


def on_main(world: World, what: str, fn: Callable[[], T]) -> T:
    """Run ``fn`` on rank 0 only and give its result to every process. When it fails, rank 0 raises the
    error and the others an :class:`OtherProcessFailed` that names it (no process is left waiting)."""
    if not world.distributed:
        return fn()
    outcome: tuple[str, Any] | None = None
    if world.is_main:
        try:
            outcome = ("ok", fn())
        except Exception as exc:
            broadcast(("error", f"{type(exc).__name__}: {exc}"), world)
            raise
    status, value = broadcast(outcome, world)
    if status == "error":
        raise OtherProcessFailed(f"process {MAIN_RANK} could not {what}: {value}")
    return value


@contextlib.contextmanager
def main_first(world: World) -> Iterator[None]:
    """Rank 0 runs the block first (e.g. building the base model into the cache), then the others do."""
    if not world.is_main:
        barrier(world)
    yield
    if world.is_main:
        barrier(world)


@contextlib.contextmanager
def quiet_unless_main(world: World) -> Iterator[None]:
    """Only rank 0 prints progress and reports; the others' standard output is dropped (errors still show)."""
    if world.is_main:
        yield
        return
    with open(os.devnull, "w", encoding="utf-8") as sink, contextlib.redirect_stdout(sink):
        yield


def per_process_batch(global_batch: int, world_size: int) -> int:
    """``training.batch_size`` is the global batch: each of ``world_size`` processes takes an equal part."""
    if global_batch % world_size:
        raise ConfigError(f"training.batch_size={global_batch} is the global batch and must divide evenly among "
                          f"the {world_size} processes; use a multiple of {world_size} or another process count")
    return global_batch // world_size
