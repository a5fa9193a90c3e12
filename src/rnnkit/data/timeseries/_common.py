"""Private helpers shared by the :mod:`rnnkit.data.timeseries` modules: the length of a day
(:mod:`~rnnkit.data.timeseries.timing` and :mod:`~rnnkit.data.timeseries.split` measure
steps against it) and the positive-int check of ``season``, ``lookback``, ``horizon`` and
``stride`` (:mod:`~rnnkit.data.timeseries.clean`, :mod:`~rnnkit.data.timeseries.windows`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from rnnkit.config import ConfigError

_DAY = pd.Timedelta(days=1)


def _check_positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ConfigError(f"expected a positive int, got {value!r}", key=name)
    return int(value)
