"""The reference optimisers, clipping and training loops (rnnkit.reference.optim / .training).

SGD and Adam are checked against torch.optim on the same parameters and gradients (torch is
imported here only: the reference package itself is NumPy-only). Clipping and averaging are
checked against values worked out by hand; truncated BPTT against full BPTT.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnkit.reference import elman, losses, lstm
from rnnkit.reference.optim import (
    SGD,
    Adam,
    average,
    clip_by_global_norm,
    clip_by_value,
    global_norm,
)
from rnnkit.reference.training import accumulate, train_step, truncated_bptt

STEPS = 5
TOL = 1e-12


def _param_and_grads(seed: int) -> tuple[dict[str, np.ndarray], list[dict[str, np.ndarray]]]:
    """Two parameters of different shapes and a fixed sequence of STEPS gradient dicts."""
    rng = np.random.default_rng(seed)
    params = {"w": rng.standard_normal((3, 4)), "b": rng.standard_normal(3)}
    grads = [{k: rng.standard_normal(v.shape) for k, v in params.items()} for _ in range(STEPS)]
    return params, grads


def _torch_run(make_opt, params, grads_seq) -> dict[str, np.ndarray]:
    """torch.optim on float64 copies of params, fed the same gradients."""
    tparams = {
        k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()
    }
    opt = make_opt(list(tparams.values()))
    for grads in grads_seq:
        for k, p in tparams.items():
            p.grad = torch.tensor(grads[k], dtype=torch.float64)
        opt.step()
    return {k: p.detach().numpy() for k, p in tparams.items()}


SGD_CASES = {
    "plain": {"lr": 0.1},
    "momentum": {"lr": 0.1, "momentum": 0.9},
    "nesterov": {"lr": 0.05, "momentum": 0.8, "nesterov": True},
    "weight_decay": {"lr": 0.1, "weight_decay": 0.01},
    "all": {"lr": 0.03, "momentum": 0.7, "nesterov": True, "weight_decay": 0.05},
}


@pytest.mark.parametrize("case", sorted(SGD_CASES))
def test_sgd_matches_torch(case: str) -> None:
    kwargs = SGD_CASES[case]
    params, grads_seq = _param_and_grads(1)
    expected = _torch_run(
        lambda ps: torch.optim.SGD(ps, foreach=False, **kwargs), params, grads_seq
    )
    ours = {k: v.copy() for k, v in params.items()}
    opt = SGD(**kwargs)
    for grads in grads_seq:
        assert opt.step(ours, grads) is ours  # in place, same dict back
    for k in params:
        np.testing.assert_allclose(ours[k], expected[k], rtol=0, atol=TOL)
        assert not np.allclose(ours[k], params[k])  # it did move


ADAM_CASES = {
    "default": {"lr": 1e-3},
    "tuned": {"lr": 0.05, "betas": (0.8, 0.95), "eps": 1e-6},
    "weight_decay": {"lr": 0.01, "weight_decay": 0.1},
}


@pytest.mark.parametrize("case", sorted(ADAM_CASES))
def test_adam_matches_torch(case: str) -> None:
    kwargs = ADAM_CASES[case]
    params, grads_seq = _param_and_grads(2)
    expected = _torch_run(
        lambda ps: torch.optim.Adam(ps, foreach=False, **kwargs), params, grads_seq
    )
    ours = {k: v.copy() for k, v in params.items()}
    opt = Adam(**kwargs)
    for grads in grads_seq:
        opt.step(ours, grads)
    for k in params:
        np.testing.assert_allclose(ours[k], expected[k], rtol=0, atol=TOL)


def test_sgd_momentum_buffer_convention_by_hand() -> None:
    """torch's buffer: b_1 = g, b_t = μ b_{t-1} + g (no (1-μ) factor, no lr inside)."""
    p = {"w": np.array([0.0])}
    opt = SGD(lr=1.0, momentum=0.5)
    opt.step(p, {"w": np.array([1.0])})  # b = 1,           w = -1
    opt.step(p, {"w": np.array([1.0])})  # b = 0.5 + 1 = 1.5, w = -2.5
    np.testing.assert_array_equal(p["w"], [-2.5])
    np.testing.assert_array_equal(opt.buffers["w"], [1.5])


def test_clip_by_global_norm_rescales_when_norm_reaches_threshold() -> None:
    grads = {"a": np.array([3.0]), "b": np.array([[4.0]])}
    clipped, norm = clip_by_global_norm(grads, 1.0)
    assert norm == 5.0
    # threshold / ‖g‖ = 1/5: [3, 4] -> [0.6, 0.8]
    np.testing.assert_allclose(clipped["a"], [0.6], rtol=0, atol=1e-15)
    np.testing.assert_allclose(clipped["b"], [[0.8]], rtol=0, atol=1e-15)
    assert global_norm(clipped) == pytest.approx(1.0, abs=1e-15)
    np.testing.assert_array_equal(grads["a"], [3.0])  # inputs untouched


def test_clip_by_global_norm_leaves_small_gradients_unchanged() -> None:
    grads = {"w": np.array([3.0, 4.0])}
    clipped, norm = clip_by_global_norm(grads, 10.0)
    assert norm == 5.0
    np.testing.assert_array_equal(clipped["w"], [3.0, 4.0])
    assert clipped["w"] is not grads["w"]  # a new array, as documented


def test_clip_by_global_norm_at_threshold_is_exactly_identity() -> None:
    """Algorithm 1's ``≥`` with factor exactly 1, where torch's +1e-6 would shrink slightly."""
    clipped, norm = clip_by_global_norm({"w": np.array([3.0, 4.0])}, 5.0)
    assert norm == 5.0
    np.testing.assert_array_equal(clipped["w"], [3.0, 4.0])


def test_clip_by_value_exact() -> None:
    grads = {"w": np.array([[-3.0, -1.0, 0.25], [1.0, 2.5, 0.0]])}
    clipped = clip_by_value(grads, 1.0)
    np.testing.assert_array_equal(clipped["w"], [[-1.0, -1.0, 0.25], [1.0, 1.0, 0.0]])
    np.testing.assert_array_equal(grads["w"][0, 0], -3.0)  # inputs untouched


def test_average_exact() -> None:
    grads = [
        {"w": np.array([1.0, 2.0]), "b": np.array([0.5])},
        {"w": np.array([3.0, 4.0]), "b": np.array([1.5])},
        {"w": np.array([5.0, 9.0]), "b": np.array([-0.5])},
    ]
    avg = average(grads)
    np.testing.assert_array_equal(avg["w"], [3.0, 5.0])
    np.testing.assert_array_equal(avg["b"], [0.5])


# ---- truncated BPTT and train_step -----------------------------------------------------------

B, T, I, H = 3, 12, 2, 4


def _elman_params(rng: np.random.Generator, hidden: int = H, inputs: int = I, scale=0.5):
    return {
        "weight_ih": rng.standard_normal((hidden, inputs)) * scale,
        "weight_hh": rng.standard_normal((hidden, hidden)) * scale,
        "bias_ih": rng.standard_normal(hidden) * 0.1,
        "bias_hh": rng.standard_normal(hidden) * 0.1,
    }


def _stream(seed: int = 0):
    rng = np.random.default_rng(seed)
    return _elman_params(rng), rng.standard_normal((B, T, I)), rng.standard_normal((B, T, H))


def test_truncated_bptt_with_k_equal_t_is_full_bptt() -> None:
    params, x, y = _stream()
    out, _, cache = elman.forward(params, x)
    loss, dout = losses.mse(out, y)
    grads, _, _ = elman.backward(params, cache, dout)
    tloss, tgrads = truncated_bptt("elman", params, x, y, losses.mse, k=T)
    assert len(tgrads) == 1
    assert tloss == pytest.approx(loss, abs=1e-14)
    for name in grads:
        np.testing.assert_allclose(tgrads[0][name], grads[name], rtol=0, atol=1e-14)


def test_truncated_bptt_windows_are_detached_and_carry_the_state() -> None:
    params, x, y = _stream()
    k = 5
    tloss, tgrads, states = truncated_bptt(elman, params, x, y, losses.mse, k=k, return_states=True)
    assert len(tgrads) == 3  # [0, 5), [5, 10), [10, 12)
    # Window 0 is full BPTT on x[:, :k] alone.
    out0, _, cache0 = elman.forward(params, x[:, :k])
    loss0, dout0 = losses.mse(out0, y[:, :k])
    grads0, _, _ = elman.backward(params, cache0, dout0)
    for name in grads0:
        np.testing.assert_allclose(tgrads[0][name], grads0[name], rtol=0, atol=1e-14)
    # The carried state is the full forward's state at step k.
    full_out, _, _ = elman.forward(params, x)
    np.testing.assert_allclose(states[0][0], full_out[:, k - 1], rtol=0, atol=1e-14)
    # Window 1 starts from that state as a constant: BPTT on x[:, k:2k] from h_k.
    out1, _, cache1 = elman.forward(params, x[:, k : 2 * k], (full_out[:, k - 1],))
    loss1, dout1 = losses.mse(out1, y[:, k : 2 * k])
    grads1, _, _ = elman.backward(params, cache1, dout1)
    for name in grads1:
        np.testing.assert_allclose(tgrads[1][name], grads1[name], rtol=0, atol=1e-14)
    # And truncation really drops something: the summed gradient is not full BPTT's.
    out, _, cache = elman.forward(params, x)
    full_grads, _, _ = elman.backward(params, cache, losses.mse(out, y)[1])
    summed = accumulate(tgrads)
    assert not np.allclose(summed["weight_hh"], full_grads["weight_hh"])
    assert tloss > loss0  # summed over windows


def test_truncated_bptt_with_lengths_matches_full_forward_state() -> None:
    """LSTM (two state fields) with ragged lengths: states leaving each window are the full
    forward's, and k = T reproduces full masked BPTT."""
    rng = np.random.default_rng(3)
    params = {
        "weight_ih": rng.standard_normal((4 * H, I)) * 0.5,
        "weight_hh": rng.standard_normal((4 * H, H)) * 0.5,
        "bias_ih": np.zeros(4 * H),
        "bias_hh": np.zeros(4 * H),
    }
    x, y = rng.standard_normal((B, T, I)), rng.standard_normal((B, T, H))
    lengths = np.array([T, 3, 7])
    _, _, states = truncated_bptt(
        lstm, params, x, y, losses.mse, k=4, lengths=lengths, return_states=True
    )
    for w, end in enumerate((4, 8, 12)):
        _, ref_state, _ = lstm.forward(params, x[:, :end], lengths=np.minimum(lengths, end))
        for got, want in zip(states[w], ref_state, strict=True):
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-14)
    out, _, cache = lstm.forward(params, x, lengths=lengths)
    valid = np.arange(T)[None, :] < lengths[:, None]
    loss, dout = losses.mse(out, y, valid)
    grads, _, _ = lstm.backward(params, cache, dout)
    tloss, tgrads = truncated_bptt(lstm, params, x, y, losses.mse, k=T, lengths=lengths)
    assert tloss == pytest.approx(loss, abs=1e-14)
    for name in grads:
        np.testing.assert_allclose(tgrads[0][name], grads[name], rtol=0, atol=1e-14)


def test_train_step_clips_and_reports_the_norm_before_clipping() -> None:
    params, x, y = _stream()
    out, _, cache = elman.forward(params, x)
    loss, dout = losses.mse(out, y)
    grads, _, _ = elman.backward(params, cache, dout)
    norm = global_norm(grads)
    before = {k: v.copy() for k, v in params.items()}
    got_loss, got_norm = train_step("elman", params, x, y, losses.mse, SGD(lr=1.0), clip=norm / 2)
    assert got_loss == pytest.approx(loss, abs=1e-14)
    assert got_norm == pytest.approx(norm, abs=1e-14)
    step = {k: before[k] - params[k] for k in params}  # lr = 1: the clipped gradient itself
    assert global_norm(step) == pytest.approx(norm / 2, rel=1e-12)


def _previous_input_loss(outputs: np.ndarray, targets: np.ndarray):
    """MSE between hidden unit 0 and the target; the other units are free memory."""
    loss, d0 = losses.mse(outputs[..., :1], targets)
    doutputs = np.zeros_like(outputs)
    doutputs[..., :1] = d0
    return loss, doutputs


def test_train_step_with_adam_learns_to_predict_the_previous_input() -> None:
    """Toy memory task: y_t = x_{t-1} (y_1 = 0). Loss must drop at least 10x."""
    rng = np.random.default_rng(0)
    params = _elman_params(rng, hidden=6, inputs=1, scale=0.3)
    x = rng.uniform(-0.5, 0.5, size=(16, 10, 1))
    y = np.concatenate([np.zeros((16, 1, 1)), x[:, :-1]], axis=1)
    opt = Adam(lr=0.02)
    first = None
    for _ in range(300):
        loss, _ = train_step(elman, params, x, y, _previous_input_loss, opt, clip=5.0)
        first = loss if first is None else first
    final, _, _ = elman.forward(params, x)
    last = _previous_input_loss(final, y)[0]
    assert last < first / 10, (first, last)
    # Below what any memoryless predictor can reach (Var(x_{t-1} | x_t) = Var(x) = 1/12):
    # the network really carries x_{t-1} in its state.
    assert last < np.var(x) / 10, last
