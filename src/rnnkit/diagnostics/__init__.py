"""rnnkit.diagnostics: checks and measurements of trained and untrained recurrent networks.

:mod:`~rnnkit.diagnostics.gradcheck` runs the three-way gradient check behind
``rnnkit gradcheck``: the NumPy reference's BPTT against finite differences, against rnnkit's
torch engine, and rnnkit against ``torch.nn``.
"""

from rnnkit.diagnostics.gradcheck import (
    TOLERANCE,
    GradcheckReport,
    GradcheckRow,
    all_configurations,
    check,
    check_all,
)

__all__ = [
    "TOLERANCE",
    "GradcheckReport",
    "GradcheckRow",
    "all_configurations",
    "check",
    "check_all",
]
