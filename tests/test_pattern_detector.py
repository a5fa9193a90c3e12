"""examples/pattern_detector.py: the UDACITY detector trained with the NumPy reference engine.

The example is loaded from its file (it is not part of the package). One module-scoped
training run with the example's default, seeded budget is shared by the metric tests; it
takes a few seconds on two cores.
"""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "pattern_detector.py"


def _load_example():
    """Import the example file as the module ``pattern_detector``."""
    spec = importlib.util.spec_from_file_location("pattern_detector", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up in sys.modules
    spec.loader.exec_module(module)
    return module


pd = _load_example()


@pytest.fixture(scope="module")
def trained():
    """``(params, history)`` of the example's default, seeded training run."""
    return pd.train(pd.Config(seed=0))


def codes_of(text: str) -> np.ndarray:
    """Letter codes of an upper-case string."""
    return np.array([pd.ALPHABET.index(c) for c in text])


# ---- data -------------------------------------------------------------------------------


def test_targets_mark_only_the_last_letter_of_complete_words():
    text = "QUDACITYUDACITXUDAUDACITYXDACITYUDACIT"
    targets = pd.pattern_targets(codes_of(text))
    ends = [i for i in range(len(text)) if text[: i + 1].endswith("UDACITY")]
    assert ends == [7, 24]
    assert np.flatnonzero(targets).tolist() == ends
    assert pd.pattern_targets(codes_of("UDACIT")).sum() == 0  # shorter than the word


def test_streams_plant_words_and_near_misses():
    x, y, codes = pd.make_batch(np.random.default_rng(1), 64, 60)
    assert x.shape == (64, 60, 26) and y.shape == (64, 60, 1) and codes.shape == (64, 60)
    np.testing.assert_array_equal(x.argmax(-1), codes)
    np.testing.assert_array_equal(x.sum(-1), 1.0)
    windows = np.lib.stride_tricks.sliding_window_view(codes, 7, axis=1)
    matches = (windows == pd.PATTERN_CODES).sum(-1)
    assert y.sum() == (matches == 7).sum() >= 32  # words are common (about one a stream)
    assert (matches == 6).sum() >= 16  # ... and so are one-letter-off decoys
    prefixes = [(windows[..., :k] == pd.PATTERN_CODES[:k]).all(-1).sum() for k in (3, 5)]
    assert prefixes[0] > prefixes[1] > y.sum()  # broken-off prefixes of several lengths


def test_streams_are_reproducible_from_the_seed():
    a = pd.make_batch(np.random.default_rng(3), 4, 50)[2]
    b = pd.make_batch(np.random.default_rng(3), 4, 50)[2]
    np.testing.assert_array_equal(a, b)


# ---- model gradients --------------------------------------------------------------------


@pytest.mark.parametrize("family", ["elman", "lstm"])
def test_readout_and_bptt_gradients_match_finite_differences(family):
    rng = np.random.default_rng(0)
    params = pd.init_params(rng, 3, family)
    params["bias_y"][:] = 0.3  # away from the -4 start, where σ' is small
    x, y, _ = pd.make_batch(rng, 2, 12)
    mask = rng.random((2, 12)) < 0.7
    _, grads = pd.loss_and_grads(params, x, y, family, mask=mask)
    assert set(grads) == set(params)
    eps = 1e-6
    for name, p in params.items():
        numeric = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            old = p[i]
            p[i] = old + eps
            plus = pd.loss_and_grads(params, x, y, family, mask=mask)[0]
            p[i] = old - eps
            minus = pd.loss_and_grads(params, x, y, family, mask=mask)[0]
            p[i] = old
            numeric[i] = (plus - minus) / (2 * eps)
        np.testing.assert_allclose(grads[name], numeric, rtol=1e-5, atol=1e-9, err_msg=name)


def test_readout_backward_shapes():
    rng = np.random.default_rng(0)
    h, w = rng.normal(size=(2, 5, 4)), rng.normal(size=(1, 4))
    dz = rng.normal(size=(2, 5, 1))
    dh, grads = pd.readout_backward(dz, h, w)
    assert dh.shape == h.shape
    np.testing.assert_allclose(grads["weight_y"], np.einsum("bto,bth->oh", dz, h))
    np.testing.assert_allclose(grads["bias_y"], dz.sum(axis=(0, 1)))


# ---- training -----------------------------------------------------------------------------


def test_clipping_is_applied_and_recorded():
    config = pd.Config(steps=4, clip=1e-6)
    _, history = pd.train(config)
    assert len(history.loss) == len(history.grad_norm) == len(history.clipped) == 4
    assert all(history.clipped) and min(history.grad_norm) > 1e-6


def test_training_lowers_the_loss(trained):
    _, history = trained
    first, last = np.mean(history.loss[:20]), np.mean(history.loss[-50:])
    assert last < first / 20


def test_held_out_accuracy_precision_recall(trained):
    params, _ = trained
    m = pd.evaluate(params)
    assert m["occurrences"] >= 400 and m["steps"] == 20_000
    assert m["accuracy"] >= 0.99
    assert m["recall"] >= 0.99
    assert m["precision"] >= 0.99


def test_decoys_alone_raise_almost_no_flags(trained):
    params, _ = trained
    m = pd.evaluate(params, seed=5, p_word=0.0, p_plant=0.2)  # ~1200 one-letter-off decoys
    assert m["occurrences"] == 0
    assert m["flags"] <= 10


def test_gradient_reach_fades_before_the_word(trained):
    params, _ = trained
    reach = pd.gradient_reach(params)  # ‖∂E_T/∂h_t‖, the word at T-7..T-1
    assert reach.shape == (30,) and np.all(reach > 0)
    assert reach[:10].max() < 1e-2 * reach[-7:].max()  # long before the word: faded


# ---- the example as a script --------------------------------------------------------------


def test_example_does_not_import_torch():
    tree = ast.parse(EXAMPLE.read_text())
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert "torch" not in imported
    code = (
        "import sys\n"
        f"sys.path.insert(0, {str(EXAMPLE.parent)!r})\n"
        "import pattern_detector as pd\n"
        "params, _ = pd.train(pd.Config(steps=5))\n"
        "pd.evaluate(params, streams=4)\n"
        "pd.gradient_reach(params)\n"
        "assert 'rnnkit.reference' in sys.modules\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_main_prints_the_report(capsys):
    pd.main(pd.Config(steps=10, log_every=5))
    out = capsys.readouterr().out
    assert "clipped" in out and "     5 " in out and "    10 " in out
    assert "T-16" in out and "precision" in out and "recall" in out
    assert "UDACITY" in out
