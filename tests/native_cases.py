"""What the tests of the whole-sequence C loops share (test_native_lstm_sequence.py,
test_native_jordan.py): the skip marker, and spies on a module's ``sequence_forward``."""

from __future__ import annotations

from types import ModuleType

import pytest

from rnnkit.cells import gemm, native

needs_native = pytest.mark.skipif(
    native.kernels() is None or gemm.mkl_packed() is None,
    reason=f"native kernels {native.status()}, MKL packed GEMM {gemm.mkl_packed()}",
)


def saved_by_c_runs(monkeypatch: pytest.MonkeyPatch, module: ModuleType) -> list[object]:
    """A list that gets what each sequence the C loop ran saved for its backward (None in
    inference): ``module.sequence_forward`` calls that did not return None."""
    saved: list[object] = []
    real = module.sequence_forward

    def spy(*args):
        result = real(*args)
        if result is not None:
            saved.append(result[2])
        return result

    monkeypatch.setattr(module, "sequence_forward", spy)
    return saved
