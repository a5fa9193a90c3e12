"""Worker for the DDP test: train the sign task, write the final parameters (rank 0 only).

Run as ``torchrun --nproc_per_node 2 tests/workers/ddp_sign.py OUT.safetensors BATCH`` or as a
plain ``python`` process (one rank) with the same arguments.
"""

import sys
from pathlib import Path

import torch
from safetensors.torch import save_file

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/training_cases.py

from rnnkit.training.config import TrainConfig  # noqa: E402
from rnnkit.training.distributed import init_distributed  # noqa: E402
from rnnkit.training.loop import fit, seed_everything  # noqa: E402
from training_cases import SignClassifier, SignTask  # noqa: E402

torch.set_num_threads(1)
out, batch_size = Path(sys.argv[1]), int(sys.argv[2])
context = init_distributed(torch.device("cpu"))
task = SignTask(batch_size=batch_size)
seed_everything(context.rank + 7)  # different per rank: the broadcast must equalise them
model = SignClassifier()
config = TrainConfig(epochs=2, optimizer="sgd", lr=0.1, momentum=0.9, device="cpu", seed=1)
fit(model, task.train_batches, task.val, config, objective=task, dist_context=context)
if context.is_main:
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(out))
context.close()
