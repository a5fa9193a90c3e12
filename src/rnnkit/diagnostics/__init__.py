"""rnnkit.diagnostics: checks and measurements of trained and untrained recurrent networks.

:mod:`~rnnkit.diagnostics.gradcheck` runs the three-way gradient check behind
``rnnkit gradcheck``: the NumPy reference's BPTT against finite differences, against rnnkit's
torch engine, and rnnkit against ``torch.nn``.

:mod:`~rnnkit.diagnostics.gradient_flow` measures vanishing and exploding gradients behind
``rnnkit diagnose gradients``: ‖∂E_T/∂h_t‖ against the lag T - t, by autograd and by the
reference engine, with the fitted decay rate per step and a verdict, for fresh cells or a
trained model's stack.
"""

from rnnkit.diagnostics.gradcheck import (
    TOLERANCE,
    GradcheckReport,
    GradcheckRow,
    all_configurations,
    check,
    check_all,
)
from rnnkit.diagnostics.gradient_flow import GradientFlow, measure_cell, plot_gradient_flow

__all__ = [
    "TOLERANCE",
    "GradcheckReport",
    "GradcheckRow",
    "GradientFlow",
    "all_configurations",
    "check",
    "check_all",
    "measure_cell",
    "plot_gradient_flow",
]
