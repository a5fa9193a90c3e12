"""The forecaster's ONNX export: one graph from a scaled look-back window to the forecast."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnkit.models.forecaster import Forecaster
from rnnkit.tasks.common.onnx_export import ExportPlan, Graph, Port, run_files
from rnnkit.tasks.forecast.task import ForecasterTask
from rnnkit.training.rundir import RunDir

__all__ = ["export_plan"]

FILES = {
    "config.json": "the run's config: `data.targets` and `data.covariates` (the channel order: "
    "targets first), `data.transform` (log: the series went through log1p before scaling)",
    "scaler.json": "each column's `center` and `scale`: `window` = (x - center) / scale, and "
    "the forecast back as mean * scale + center (then expm1 under `data.transform` log)",
    "calibration.json": "a point model's conformal half-widths (scaled units) per level, "
    "horizon step and target: its prediction intervals",
}


class ForecasterGraph(nn.Module):
    """``window -> (mean[, scale | quantiles])`` of the output's distribution."""

    def __init__(self, model: Forecaster) -> None:
        super().__init__()
        self.model = model

    def forward(self, window: Tensor) -> tuple[Tensor, ...]:
        out = self.model(window)
        extra = out.scale if out.scale is not None else out.quantiles
        return (out.mean,) if extra is None else (out.mean, extra)


def export_plan(task: ForecasterTask, run: RunDir) -> ExportPlan:
    """The forecaster's graph and the scaler that puts a window into its units."""
    model = task.model
    L, H = model.lookback, model.horizon
    C_in, C_out = model.num_inputs, model.num_targets
    graph = Graph(
        name="forecaster",
        module=ForecasterGraph(model),
        inputs=(
            Port(
                "window",
                "float32",
                ("batch", L, C_in),
                "the last look-back steps of every channel (targets first), scaled",
            ),
        ),
        outputs=(_mean(H, C_out), *_distribution(task, H, C_out)),
        sample=lambda B, _T: (torch.randn(B, L, C_in),),
        meaning=f"The next {H} steps of the {C_out} target channels from the last {L} steps "
        "(scaled units). The window's length is fixed: only the batch is free.",
    )
    return ExportPlan("forecast", (graph,), run_files(run, FILES))


def _mean(H: int, C: int) -> Port:
    return Port("mean", "float32", ("batch", H, C), "the point forecast (scaled units)")


def _distribution(task: ForecasterTask, H: int, C: int) -> tuple[Port, ...]:
    output = task.config.model.output
    if output == "gaussian":
        return (Port("scale", "float32", ("batch", H, C), "Gaussian standard deviation"),)
    if output == "quantile":
        levels = ", ".join(f"{q:g}" for q in task.config.model.quantiles)
        Q = len(task.config.model.quantiles)
        return (Port("quantiles", "float32", ("batch", H, C, Q), f"quantiles {levels}"),)
    return ()
