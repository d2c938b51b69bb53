"""Data-parallel training: ``scripts/train.py`` under ``accelerate launch`` or ``torchrun``.

transformers' ``Trainer`` already trains data-parallel when a launcher starts
several processes; this package makes the rest of a run correct under them:

- :mod:`.world`: which process this is (:class:`World`), the process group
  (gloo on CPU, NCCL on GPUs), and the few collectives a run needs: rank 0
  decides (resume, precision) and the others receive its decision; rank 0
  evaluates and writes the model while the others wait.
- :mod:`.threads`: each process's share of the CPU cores, so that two
  processes on two cores do not oversubscribe them.

A plain ``python scripts/train.py`` is a world of one process: every function
here is then a no-op, and a run is exactly what it was before.
"""

from .threads import cpu_cores, share_cpu_threads, use_all_local_threads
from .world import (PROCESS_GROUP_TIMEOUT_S, OtherProcessFailed, World, barrier, broadcast,
                    init_world, main_first, on_main, per_process_batch, quiet_unless_main, training_on_cuda)

__all__ = ["PROCESS_GROUP_TIMEOUT_S", "OtherProcessFailed", "World", "barrier", "broadcast", "cpu_cores",
           "init_world", "main_first", "on_main", "per_process_batch", "quiet_unless_main",
           "share_cpu_threads", "training_on_cuda", "use_all_local_threads"]
