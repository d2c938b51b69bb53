"""CPU threads per process: the processes of a data-parallel run share this machine's cores.

Each process gets at most ``cores // processes on this machine`` torch threads,
so two processes on two cores run one thread each instead of fighting over the
cores with two each. The count is only ever lowered (``OMP_NUM_THREADS`` and the
launcher's own choice are upper bounds). Rank 0 evaluating and writing alone
(the others wait) takes the threads of all local processes back.
"""

from __future__ import annotations

import os

from .world import World


def cpu_cores() -> int:
    """The cores this process may run on (its CPU affinity; the machine's count where that is unknown)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def share_cpu_threads(world: World) -> int:
    """Cap torch's threads at this process's share of the cores; returns the threads it now uses."""
    import torch

    if world.local_size > 1:
        share = max(1, cpu_cores() // world.local_size)
        if torch.get_num_threads() > share:
            torch.set_num_threads(share)
    return torch.get_num_threads()


def use_all_local_threads(world: World, per_process: int) -> int:
    """Rank 0 working alone takes the threads of all processes on this machine (at most its cores)."""
    import torch

    if world.local_size > 1:
        torch.set_num_threads(max(1, min(cpu_cores(), per_process * world.local_size)))
    return torch.get_num_threads()
