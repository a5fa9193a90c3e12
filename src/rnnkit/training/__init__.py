"""Model-agnostic training: the loop, truncated BPTT, clipping, checkpoints, run directories.

``training`` never imports ``data``, ``models`` or ``tasks`` (DESIGN.md): a task hands
:func:`fit` a model, batches and an objective, and gets back the trained model and its history.
"""

from rnnkit.training.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from rnnkit.training.config import StreamTrainConfig, TrainConfig
from rnnkit.training.distributed import DistributedContext, init_distributed
from rnnkit.training.loop import (
    FitResult,
    Objective,
    StepOutput,
    TrainingError,
    fit,
    resolve_device,
    seed_everything,
)
from rnnkit.training.progress import make_progress
from rnnkit.training.rundir import RunDir, RunDirError

__all__ = [
    "CheckpointError",
    "DistributedContext",
    "FitResult",
    "Objective",
    "RunDir",
    "RunDirError",
    "StepOutput",
    "StreamTrainConfig",
    "TrainConfig",
    "TrainingError",
    "fit",
    "init_distributed",
    "load_checkpoint",
    "make_progress",
    "resolve_device",
    "save_checkpoint",
    "seed_everything",
]
