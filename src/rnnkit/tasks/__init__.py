"""The jobs: language modeling (``lm``), classification (``classify``), forecasting
(``forecast``), each a package that declares itself on the shared skeleton
(:mod:`rnnkit.tasks.common`).

A run directory's ``config.json`` names its job (``"task": "lm"``); :func:`load` finds the
job that rebuilds it.
"""

from rnnkit.tasks.common import load

__all__ = ["load"]
