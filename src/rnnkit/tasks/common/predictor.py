"""The predictor interface: what every task object answers, whatever its job.

``predict(inputs, **options)`` takes a list of JSON-able inputs and returns one JSON-able
output per input (dicts, lists, strings, numbers, booleans, None): what the command line's
predict-like verbs print with ``--json``, and what an HTTP server can serve for any job
without knowing it. Each job's task object documents its inputs, options and outputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

__all__ = ["Predictor"]


@runtime_checkable
class Predictor(Protocol):
    """A trained task object: ``predict(inputs: list[JSON], **options: JSON) -> list[JSON]``."""

    def predict(self, inputs: Sequence[Any], **options: Any) -> list[Any]: ...
