"""Data-parallel training with ``torch.distributed``, launched by ``torchrun``.

Every process (rank) holds the whole model and trains on its shard of each global batch:
rows ``tensor_split(world_size)[rank]`` of every tensor in the batch (so a stream's row
stays on the same rank from window to window, and a carried recurrent state stays valid).
After the local backward, gradients are summed across ranks weighted by each rank's item
count and divided by the global count: exactly the gradient of the global batch mean, the
same number a single process computes on the whole batch. gloo on CPU, nccl on CUDA.

The averaging is an explicit all-reduce over the gradients rather than the
``DistributedDataParallel`` wrapper, so a task's objective can call any method of its model
(``DistributedDataParallel`` synchronises only through ``forward``); the numbers are the same.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from rnnkit.config import ConfigError
from rnnkit.training.tree import tree_map

__all__ = [
    "DistributedContext",
    "has_rows",
    "init_distributed",
    "is_main_process",
    "under_torchrun",
]


@dataclass(frozen=True)
class DistributedContext:
    """Where this process stands: rank, world size, and whether it logs and saves."""

    rank: int = 0
    world_size: int = 1
    device: torch.device = torch.device("cpu")  # where collectives run (nccl needs CUDA)

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Only rank 0 writes logs, checkpoints and the run directory."""
        return self.rank == 0

    def shard(self, batch: Any) -> Any:
        """This rank's rows of every tensor in ``batch`` (dim 0); other leaves unchanged."""
        if not self.enabled:
            return batch
        return tree_map(lambda t: t.tensor_split(self.world_size)[self.rank], batch)

    def broadcast_parameters(self, model: nn.Module) -> None:
        """Gives every rank rank 0's initial weights (and buffers)."""
        if self.enabled:
            for tensor in [*model.parameters(), *model.buffers()]:
                dist.broadcast(tensor.data, src=0)

    def average_gradients(self, model: nn.Module, local_items: float) -> None:
        """Replaces each gradient by the item-weighted mean over ranks (see module doc).

        A rank may have no gradient for a parameter (its share of a small last batch was
        empty, or its rows never reached the parameter): it counts as zero there. A parameter
        that no rank has a gradient for keeps ``grad = None``, as in one process.
        """
        if not self.enabled:
            return
        params = [p for p in model.parameters() if p.requires_grad]
        if not params:
            return
        dtype = next((p.grad.dtype for p in params if p.grad is not None), params[0].dtype)
        weighted = [
            (p.grad * local_items if p.grad is not None else torch.zeros_like(p, dtype=dtype))
            for p in params
        ]
        has_grad = [1.0 if p.grad is not None else 0.0 for p in params]
        tail = torch.tensor([*has_grad, float(local_items)], dtype=dtype, device=self.device)
        flat = torch.cat([g.reshape(-1) for g in weighted] + [tail])
        dist.all_reduce(flat)
        total_items = flat[-1]
        reached = flat[-1 - len(params) : -1]
        offset = 0
        for p, any_rank in zip(params, reached.tolist(), strict=True):
            mean = (flat[offset : offset + p.numel()] / total_items).view_as(p)
            offset += p.numel()
            if any_rank == 0:
                p.grad = None
            elif p.grad is None:
                p.grad = mean.clone()
            else:
                p.grad.copy_(mean)

    def any(self, flag: bool) -> bool:
        """True on every rank when ``flag`` is True on any rank (stop decisions agree)."""
        if not self.enabled:
            return flag
        value = torch.tensor([1.0 if flag else 0.0], device=self.device)
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item() > 0)

    def gather_to_main(self, value: Any) -> list[Any] | None:
        """Every rank's ``value`` (picklable, in memory only), in rank order, on rank 0.

        Rank 0 gets the list, the other ranks None; one process gets ``[value]``.
        """
        if not self.enabled:
            return [value]
        gathered: list[Any] | None = [None] * self.world_size if self.is_main else None
        dist.gather_object(value, gathered, dst=0)
        return gathered

    def barrier(self) -> None:
        """Waits until every rank gets here (e.g. until rank 0 has written the run)."""
        if self.enabled:
            dist.barrier()

    def close(self) -> None:
        """Waits for every rank, then leaves the process group.

        Call it before the process exits: a rank that exits while gloo's threads still run
        (e.g. while rank 0 is still saving) aborts with "terminate called without an active
        exception".
        """
        if self.enabled and dist.is_initialized():
            dist.barrier()
            dist.destroy_process_group()


def has_rows(batch: Any) -> bool:
    """Whether every tensor in ``batch`` has at least one row (a shard can have none)."""
    rows: list[int] = []
    tree_map(lambda t: rows.append(t.size(0)) if t.dim() else None, batch)
    return min(rows, default=1) > 0


def under_torchrun() -> bool:
    """Whether this process is one of several that ``torchrun`` started (WORLD_SIZE > 1)."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def is_main_process() -> bool:
    """Rank 0 of a ``torchrun`` launch, or a process on its own: the one that reports."""
    return int(os.environ.get("RANK", "0")) == 0


def init_distributed(device: torch.device) -> DistributedContext:
    """Joins the process group ``torchrun`` set up (RANK/WORLD_SIZE in the environment).

    Outside ``torchrun`` (no WORLD_SIZE, or 1) it returns a single-process context and
    initialises nothing. On CUDA each process takes the GPU of its ``LOCAL_RANK`` (nccl refuses
    two ranks on one GPU), made the current device so that ``"cuda"`` means it from then on.
    """
    if not under_torchrun():
        return DistributedContext()
    if device.type == "cuda":
        device = local_cuda_device()
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend)
    return DistributedContext(rank=dist.get_rank(), world_size=dist.get_world_size(), device=device)


def local_cuda_device() -> torch.device:
    """``cuda:LOCAL_RANK``, made the current CUDA device.

    Raises:
        ConfigError: This node has fewer GPUs than processes (the message names both).
    """
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    available = torch.cuda.device_count()
    if local_rank >= available:
        raise ConfigError(
            f"the process with LOCAL_RANK={local_rank} has no GPU of its own: this node has "
            f"{available}; start at most {available} processes per node (torchrun "
            "--nproc_per_node) or train on the CPU (gloo)",
            key="device",
        )
    torch.cuda.set_device(local_rank)
    return torch.device("cuda", local_rank)
