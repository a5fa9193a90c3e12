"""Golden values: every cell option checked against numbers computed by hand.

Each case sets tiny weights by hand (2 hidden units, 1-2 inputs, 1-3 steps, nothing
saturated) and compares rnnkit, in float64, with float literals. The literals were computed
independently of rnnkit and torch, with plain Python ``math`` (tanh, exp, sqrt) evaluating the
equations of the cell docstrings; the comment above each case shows the equations. Nothing
expected is computed here from torch, so a test fails if rnnkit's equations drift.

Notation: ``σ`` is the logistic sigmoid, ``⊙`` the elementwise product, and
``LN(z; γ, β) = γ ⊙ (z - mean(z)) / sqrt(var(z) + 1e-5) + β`` (biased variance, over the
whole vector).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
import torch
from torch import Tensor

from rnnkit import (
    Cell,
    ElmanCell,
    GRUCell,
    JordanCell,
    JordanState,
    LSTMCell,
    LSTMState,
    Recurrent,
    RNNState,
    make_cell,
)
from rnnkit.state import State

Weights = Mapping[str, Any]

# rtol 1e-9 against literals written with 13 significant digits.
TOL = {"rtol": 1e-9, "atol": 1e-12}


def t(values: Any) -> Tensor:
    """A float64 tensor from nested Python lists."""
    return torch.tensor(values, dtype=torch.float64)


def set_weights(cell: Cell, weights: Weights, *, partial: bool = False) -> None:
    """Copy hand-set weights into ``cell`` by parameter name.

    Names the cell does not have are skipped (a dict can serve several Jordan feedbacks);
    unless ``partial``, every parameter of the cell must be set, so none stays random.
    """
    names = {name for name, _ in cell.named_parameters()}
    if not partial:
        assert names <= set(weights), f"weights not set by hand: {sorted(names - set(weights))}"
    with torch.no_grad():
        for name, value in weights.items():
            if name in names:
                getattr(cell, name).copy_(t(value))


def build(kind: str, sizes: tuple[int, int], weights: Weights, **options: Any) -> Cell:
    """A float64 cell of family ``kind`` with the given weights."""
    cell = make_cell(kind, *sizes, **options).double()
    set_weights(cell, weights)
    return cell


def run_sequence(
    run: str,
    kind: str,
    sizes: tuple[int, int],
    weights: Weights,
    xs: Tensor,
    state: State | None = None,
    **options: Any,
) -> tuple[Tensor, State]:
    """Run one sequence ``xs`` (T, I), batch of 1, from ``state`` (fields (K,)) or zeros.

    ``run`` is ``"cell"`` (step by step through the cell's own forward) or an engine of a
    one-layer :class:`Recurrent` holding the same weights (``"loop"``, ``"fused"``).

    Returns outputs (T, K) and the final state with fields (K,).
    """
    if run == "cell":
        cell = build(kind, sizes, weights, **options)
        s = None if state is None else type(state)(*(f.unsqueeze(0) for f in state))
        ys = []
        for x in xs:
            y, s = cell(x.unsqueeze(0), s)
            ys.append(y[0])
        assert s is not None
        return torch.stack(ys), type(s)(*(f[0] for f in s))
    layer = Recurrent(kind, *sizes, engine=run, **options).double()
    set_weights(layer.cells[0], weights)
    s = None if state is None else type(state)(*(f.view(1, 1, -1) for f in state))
    out, final = layer(xs.unsqueeze(0), state=s)
    return out[0], type(final)(*(f[0, 0] for f in final))


# ---- Elman ------------------------------------------------------------------------------------
ELMAN = {
    "weight_ih": [[0.5, -0.25], [0.1, 0.4]],
    "weight_hh": [[0.3, -0.2], [0.15, 0.25]],
    "bias_ih": [0.1, -0.05],
    "bias_hh": [-0.2, 0.05],
}
ELMAN_X = [[1.0, 0.5], [-0.5, 0.25], [0.25, -1.0]]

# h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), h_0 = 0
# e.g. t=1: a_1 = [0.5 - 0.125 + 0.1 - 0.2, 0.1 + 0.2 - 0.05 + 0.05] = [0.275, 0.3]
ELMAN_TANH_H = [
    [0.2682711820216, 0.2913126124516],
    [-0.371602595029, 0.1616386290783],
    [0.1304439867369, -0.3716453141113],
]


@pytest.mark.parametrize("run", ["cell", "loop", "fused"])
def test_elman_tanh(run: str) -> None:
    out, final = run_sequence(run, "elman", (2, 2), ELMAN, t(ELMAN_X), nonlinearity="tanh")
    torch.testing.assert_close(out, t(ELMAN_TANH_H), **TOL)
    assert isinstance(final, RNNState)
    torch.testing.assert_close(final.h, t(ELMAN_TANH_H[-1]), **TOL)


def test_elman_identity_init_starts_as_identity() -> None:
    cell = ElmanCell(3, 2, nonlinearity="relu", identity_init=True).double()
    assert torch.equal(cell.weight_hh, torch.eye(2, dtype=torch.float64))
    assert torch.equal(cell.bias_ih, torch.zeros(2, dtype=torch.float64))
    assert torch.equal(cell.bias_hh, torch.zeros(2, dtype=torch.float64))


# IRNN: W_hh = I and zero biases from the init; only W_ih = [0.5, -0.25]ᵀ is set by hand.
# h_t = relu(W_ih x_t + h_{t-1}), x = [1, -0.5, 2], h_0 = 0; exact in binary:
#   h_1 = relu([0.5, -0.25])                   = [0.5, 0]
#   h_2 = relu([-0.25, 0.125] + [0.5, 0])      = [0.25, 0.125]
#   h_3 = relu([1.0, -0.5] + [0.25, 0.125])    = [1.25, 0]
IRNN_H = [[0.5, 0.0], [0.25, 0.125], [1.25, 0.0]]


@pytest.mark.parametrize("run", ["cell", "loop", "fused"])
def test_elman_relu_identity_init_run(run: str) -> None:
    xs = t([[1.0], [-0.5], [2.0]])
    options = {"nonlinearity": "relu", "identity_init": True}
    if run == "cell":
        cell = ElmanCell(1, 2, **options).double()
        set_weights(cell, {"weight_ih": [[0.5], [-0.25]]}, partial=True)
        h = None
        outs = []
        for x in xs:
            y, h = cell(x.unsqueeze(0), h)
            outs.append(y[0])
        out = torch.stack(outs)
    else:
        layer = Recurrent("elman", 1, 2, engine=run, **options).double()
        set_weights(layer.cells[0], {"weight_ih": [[0.5], [-0.25]]}, partial=True)
        out = layer(xs.unsqueeze(0))[0][0]
    torch.testing.assert_close(out, t(IRNN_H), **TOL)


# ---- Jordan -----------------------------------------------------------------------------------
JORDAN = {
    "weight_ih": [[0.5], [-0.4]],
    "bias_ih": [0.1, 0.2],
    "weight_oh": [[0.3, -0.2], [0.25, 0.1]],  # y_{t-1} -> hidden ("hidden", "both")
    "weight_hy": [[0.6, -0.3], [0.2, 0.5]],
    "bias_hy": [0.05, -0.1],
    "weight_oo": [[0.2, 0.1], [-0.15, 0.3]],  # y_{t-1} -> output ("output", "both")
}
JORDAN_X = [[1.0], [-0.5], [0.75]]

# h_t = tanh(W_ih x_t + b_ih [+ W_oh y_{t-1}])          feedback "hidden" / "both"
# y_t = ψ(W_hy h_t + b_hy [+ W_oo y_{t-1}])             feedback "output" / "both"
# y_0 = 0, so step 1 is the same for every feedback: a_1 = [0.6, -0.2],
# o_1 = W_hy tanh(a_1) + b_hy = [0.4314423362663, -0.09127774671284].
# ψ: tanh, identity, σ, or softmax(o) = exp(o) / Σ exp(o).
JORDAN_Y = {
    ("hidden", "tanh"): [
        [0.4065259851175, -0.09102509131064],
        [-0.09250331749081, 0.1254784631841],
        [0.311571207284, -0.07517406531797],
    ],
    ("output", "tanh"): [
        [0.4065259851175, -0.09102509131064],
        [-0.08093559830616, -0.02808156579601],
        [0.3151412188704, -0.05760820069376],
    ],
    ("both", "tanh"): [
        [0.4065259851175, -0.09102509131064],
        [-0.0205629396695, 0.03783880197673],
        [0.3262650642123, -0.04980560401683],
    ],
    ("both", "identity"): [
        [0.4314423362663, -0.09127774671284],
        [-0.01256235321962, 0.03799797375756],
        [0.340815624551, -0.04961599697691],
    ],
    ("both", "sigmoid"): [
        [0.6062180323682, 0.4771963937189],
        [0.5049774281801, 0.5517626235818],
        [0.6145855624345, 0.5312955209854],
    ],
    ("both", "softmax"): [
        [0.6277835923943, 0.3722164076057],
        [0.4636977179729, 0.5363022820271],
        [0.583333790433, 0.416666209567],
    ],
}


@pytest.mark.parametrize("run", ["cell", "loop"])
@pytest.mark.parametrize(("feedback", "activation"), list(JORDAN_Y))
def test_jordan(run: str, feedback: str, activation: str) -> None:
    out, final = run_sequence(
        run,
        "jordan",
        (1, 2),
        JORDAN,
        t(JORDAN_X),
        output_size=2,
        feedback=feedback,
        output_activation=activation,
    )
    expected = t(JORDAN_Y[feedback, activation])
    torch.testing.assert_close(out, expected, **TOL)
    assert isinstance(final, JordanState)
    torch.testing.assert_close(final.y, expected[-1], **TOL)


# ---- LSTM -------------------------------------------------------------------------------------
LSTM = {  # gate rows in torch's order i, f, g, o (2 rows each)
    "weight_ih": [
        [0.2, -0.1],
        [0.05, 0.3],
        [-0.15, 0.25],
        [0.1, 0.1],
        [0.4, -0.3],
        [-0.2, 0.35],
        [0.3, 0.2],
        [-0.1, -0.25],
    ],
    "weight_hh": [
        [0.1, -0.2],
        [0.3, 0.05],
        [0.2, 0.1],
        [-0.1, 0.15],
        [-0.3, 0.25],
        [0.2, -0.1],
        [0.05, 0.3],
        [0.15, -0.2],
    ],
    "bias_ih": [0.1, -0.1, 0.5, 0.2, 0.0, 0.05, -0.05, 0.1],
    "bias_hh": [0.05, 0.0, -0.1, 0.1, 0.2, -0.15, 0.0, 0.05],
    # peephole=True
    "weight_ci": [0.1, -0.2],
    "weight_cf": [0.3, 0.15],
    "weight_co": [-0.25, 0.2],
    # layer_norm=True
    "ln_ih_weight": [1.1, 0.9, 1.0, 1.2, 0.8, 1.05, 0.95, 1.0],
    "ln_hh_weight": [0.9, 1.1, 1.2, 0.8, 1.0, 0.95, 1.05, 0.85],
    "ln_c_weight": [1.2, 0.8],
    "ln_c_bias": [0.1, -0.2],
}
LSTM_X = [[1.0, -0.5], [0.5, 0.25]]
LSTM_H0, LSTM_C0 = [0.2, -0.1], [0.3, -0.4]

# plain:     a = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh = [a_i, a_f, a_g, a_o]
#            i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o)
#            c_t = f ⊙ c_{t-1} + i ⊙ g,  h_t = o ⊙ tanh(c_t)
# peephole:  i = σ(a_i + w_ci ⊙ c_{t-1}), f = σ(a_f + w_cf ⊙ c_{t-1}), o = σ(a_o + w_co ⊙ c_t)
# layer_norm: a = LN(W_ih x_t; γ_ih) + b_ih + LN(W_hh h_{t-1}; γ_hh) + b_hh   (LN over 4H = 8)
#            c_t as plain (the state keeps the un-normalised c_t),
#            h_t = o ⊙ tanh(LN(c_t; γ_c, β_c))                               (LN over H = 2)
# (h, c) at steps 1 and 2, from h_0 = [0.2, -0.1], c_0 = [0.3, -0.4]:
LSTM_GOLDEN = {
    "plain": (
        [[0.2524649641882, -0.2194297364412], [0.2083139888065, -0.1357584829897]],
        [[0.5154146667964, -0.4172935415963], [0.4205687775421, -0.262096175809]],
    ),
    "peephole": (
        [[0.2410629637573, -0.2121810441583], [0.21012203324, -0.1309884644069]],
        [[0.5262408397902, -0.4194137189105], [0.4517302353435, -0.2595048907054]],
    ),
    "layer_norm": (
        [[0.3933651136337, -0.5236538259464], [-0.4844461940335, 0.1699380638638]],
        [[-0.1253969501952, -0.5946191834962], [-0.6292958070247, -0.3247680150949]],
    ),
}
LSTM_CASES = [
    ("plain", "cell"),
    ("plain", "loop"),
    ("plain", "fused"),
    ("peephole", "cell"),
    ("peephole", "loop"),
    ("layer_norm", "cell"),
    ("layer_norm", "loop"),
]


@pytest.mark.parametrize(("variant", "run"), LSTM_CASES)
def test_lstm(variant: str, run: str) -> None:
    options = {"peephole": variant == "peephole", "layer_norm": variant == "layer_norm"}
    state = LSTMState(t(LSTM_H0), t(LSTM_C0))
    out, final = run_sequence(run, "lstm", (2, 2), LSTM, t(LSTM_X), state, **options)
    hs, cs = LSTM_GOLDEN[variant]
    torch.testing.assert_close(out, t(hs), **TOL)
    assert isinstance(final, LSTMState)
    torch.testing.assert_close(final.h, t(hs[-1]), **TOL)
    torch.testing.assert_close(final.c, t(cs[-1]), **TOL)


@pytest.mark.parametrize("variant", list(LSTM_GOLDEN))
def test_lstm_cell_state_each_step(variant: str) -> None:
    """c_t itself (not only the final one) at both steps, through the cell's forward."""
    options = {"peephole": variant == "peephole", "layer_norm": variant == "layer_norm"}
    cell = build("lstm", (2, 2), LSTM, **options)
    state = LSTMState(t([LSTM_H0]), t([LSTM_C0]))
    hs, cs = LSTM_GOLDEN[variant]
    for x, h, c in zip(t(LSTM_X), hs, cs, strict=True):
        _, state = cell(x.unsqueeze(0), state)
        torch.testing.assert_close(state.h[0], t(h), **TOL)
        torch.testing.assert_close(state.c[0], t(c), **TOL)


@pytest.mark.parametrize("options", [{"forget_bias": 1.0}, {}], ids=["forget_bias=1", "default"])
def test_lstm_forget_bias_init(options: dict[str, float]) -> None:
    # The forget-gate slice [H, 2H) of bias_ih starts at forget_bias; that of bias_hh at 0,
    # so the pre-activation bias of f is exactly forget_bias. The default is documented as 1.0.
    H = 3
    cell = LSTMCell(2, H, **options).double()
    torch.testing.assert_close(cell.bias_ih[H : 2 * H], torch.ones(H, dtype=torch.float64))
    torch.testing.assert_close(cell.bias_hh[H : 2 * H], torch.zeros(H, dtype=torch.float64))


# ---- GRU --------------------------------------------------------------------------------------
GRU = {  # gate rows in torch's order r, z, n (2 rows each)
    "weight_ih": [
        [0.3, -0.1],
        [0.2, 0.4],
        [-0.2, 0.15],
        [0.1, -0.3],
        [0.5, 0.25],
        [-0.35, 0.2],
    ],
    "weight_hh": [
        [0.1, 0.2],
        [-0.3, 0.1],
        [0.25, -0.05],
        [0.15, 0.2],
        [-0.2, 0.3],
        [0.4, -0.1],
    ],
    "bias_ih": [0.05, -0.1, 0.2, 0.0, -0.05, 0.1],
    "bias_hh": [0.1, 0.05, -0.2, 0.15, 0.3, -0.1],
    # layer_norm=True
    "ln_ih_weight": [1.1, 0.9, 1.2, 0.8, 1.05, 0.95],
    "ln_hh_weight": [0.9, 1.1, 0.85, 1.15, 1.0, 1.2],
}
GRU_X = [[1.0, -0.5], [0.5, 0.25], [-0.75, 1.0]]
GRU_H0 = [0.2, -0.3]

# plain:      xg = W_ih x_t + b_ih,  hg = W_hh h_{t-1} + b_hh   (each [·_r, ·_z, ·_n])
# layer_norm: xg = LN(W_ih x_t; γ_ih) + b_ih,  hg = LN(W_hh h_{t-1}; γ_hh) + b_hh  (LN over 3H)
#             r = σ(xg_r + hg_r),  z = σ(xg_z + hg_z),  n = tanh(xg_n + r ⊙ hg_n)
#             h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}
# from h_0 = [0.2, -0.3]:
GRU_GOLDEN = {
    "plain": [
        [0.31303693742, -0.3131733017639],
        [0.3214234345449, -0.163427904866],
        [0.1553454205441, 0.2177917841639],
    ],
    "layer_norm": [
        [0.2585985399266, -0.4624135769624],
        [0.5299327944497, -0.3460640421938],
        [0.358463117422, 0.5467295670846],
    ],
}
GRU_CASES = [
    ("plain", "cell"),
    ("plain", "loop"),
    ("plain", "fused"),
    ("layer_norm", "cell"),
    ("layer_norm", "loop"),
]


@pytest.mark.parametrize(("variant", "run"), GRU_CASES)
def test_gru(variant: str, run: str) -> None:
    state = RNNState(t(GRU_H0))
    out, final = run_sequence(
        run, "gru", (2, 2), GRU, t(GRU_X), state, layer_norm=variant == "layer_norm"
    )
    expected = t(GRU_GOLDEN[variant])
    torch.testing.assert_close(out, expected, **TOL)
    assert isinstance(final, RNNState)
    torch.testing.assert_close(final.h, expected[-1], **TOL)


# ---- recurrent dropout ------------------------------------------------------------------------
# Elman, one step with an explicit mask m = [2, 0] (p = 0.5: kept units scaled by 1/(1-p)):
#   h_1 = tanh(W_ih x + b_ih + W_hh (h_0 ⊙ m) + b_hh),  x = [1, 0.5], h_0 = [0.4, -0.6]
#   h_0 ⊙ m = [0.8, 0];  a = [0.275 + 0.24, 0.3 + 0.12] = [0.515, 0.42]
ELMAN_DROPOUT_H = [0.4738317916668, 0.3969304320051]


def test_elman_recurrent_dropout_mask() -> None:
    cell = build("elman", (2, 2), ELMAN, recurrent_dropout=0.5)
    assert cell.training
    mask = t([[2.0, 0.0]])
    y, state = cell(t([[1.0, 0.5]]), RNNState(t([[0.4, -0.6]])), dropout_mask=mask)
    torch.testing.assert_close(y[0], t(ELMAN_DROPOUT_H), **TOL)
    torch.testing.assert_close(state.h[0], t(ELMAN_DROPOUT_H), **TOL)


def test_recurrent_dropout_mask_sampling() -> None:
    cell = ElmanCell(2, 3, recurrent_dropout=0.5).double()
    mask = cell.sample_dropout_mask(4)
    assert mask is not None and mask.shape == (4, 3)
    # inverted dropout: every unit is either dropped or scaled by 1 / (1 - 0.5)
    assert bool(((mask == 0.0) | (mask == 2.0)).all())
    cell.eval()
    assert cell.sample_dropout_mask(4) is None


# The mask only scales the vector fed back through the recurrent weights, m = [0, 2]:
# - Jordan ("both", tanh): r = y_0 ⊙ m feeds both W_oh and W_oo; y_0 = [0.3, -0.5], x = [1].
# - LSTM: r = h_0 ⊙ m feeds W_hh only; c_{t-1} is not masked. x = LSTM_X[0], h_0, c_0 as above.
# - GRU: r = h_0 ⊙ m feeds W_hh only; the carry z ⊙ h_{t-1} uses the unmasked h_0.
#   x = GRU_X[0], h_0 = GRU_H0.
DROPOUT_CASES = {
    "jordan": (
        JordanCell,
        JORDAN,
        {"output_size": 2, "feedback": "both"},
        [[1.0]],
        JordanState(t([[0.3, -0.5]])),
        JordanState(t([[0.4101702113085, -0.3908890133106]])),
    ),
    "lstm": (
        LSTMCell,
        {k: v for k, v in LSTM.items() if not k.startswith(("weight_c", "ln_"))},
        {},
        LSTM_X[:1],
        LSTMState(t([LSTM_H0]), t([LSTM_C0])),
        LSTMState(
            t([[0.2517950262121, -0.2208582726796]]), t([[0.5254799311353, -0.4224466771067]])
        ),
    ),
    "gru": (
        GRUCell,
        {k: v for k, v in GRU.items() if not k.startswith("ln_")},
        {},
        GRU_X[:1],
        RNNState(t([GRU_H0])),
        RNNState(t([[0.2991462272714, -0.322827027868]])),
    ),
}


@pytest.mark.parametrize("kind", list(DROPOUT_CASES))
def test_recurrent_dropout_mask_other_cells(kind: str) -> None:
    cls, weights, options, x, state, expected = DROPOUT_CASES[kind]
    cell = cls(1 if kind == "jordan" else 2, 2, recurrent_dropout=0.5, **options).double()
    set_weights(cell, weights)
    _, new_state = cell(t(x), state, dropout_mask=t([[0.0, 2.0]]))
    assert type(new_state) is type(expected)
    for got, want in zip(new_state, expected, strict=True):
        torch.testing.assert_close(got, want, **TOL)


# ---- Recurrent: bidirectional Elman with padding ----------------------------------------------
ELMAN_FWD = {
    "weight_ih": [[0.5], [-0.3]],
    "weight_hh": [[0.2, -0.1], [0.3, 0.4]],
    "bias_ih": [0.1, 0.0],
    "bias_hh": [0.0, -0.05],
}
ELMAN_BWD = {
    "weight_ih": [[-0.2], [0.6]],
    "weight_hh": [[0.1, 0.25], [-0.35, 0.15]],
    "bias_ih": [0.05, 0.1],
    "bias_hh": [-0.1, 0.02],
}
# Batch of 2, lengths [3, 1]; the padded steps of sequence 1 hold junk that must be ignored.
BI_X = [[[1.0], [-0.5], [0.25]], [[0.8], [9.0], [-7.0]]]
BI_LENGTHS = [3, 1]
# Each direction: h_t = tanh(W_ih x_t + b_ih + W_hh h_prev + b_hh) from zeros; the backward
# direction reads each sequence right to left within its own length, and its output at step
# t is placed back at t. Outputs are [forward, backward], zero past each sequence's length.
#   seq 0, backward, first step read (t = 2): tanh([-0.05 + 0.05 - 0.1, 0.15 + 0.1 + 0.02])
#   seq 1 (length 1): forward tanh([0.4 + 0.1, -0.24 - 0.05]),
#                     backward tanh([-0.16 + 0.05 - 0.1, 0.48 + 0.1 + 0.02])
BI_FWD_0 = [
    [0.537049566998, -0.3363755443363],
    [-0.008952292999079, 0.1258931579463],
    [0.2075600816175, -0.07717465928422],
]
BI_BWD_0 = [
    [-0.2596574097159, 0.5831891443513],
    [0.1055448556402, -0.1051819962865],
    [-0.09966799462496, 0.2636248354722],
]
BI_FWD_1 = [0.46211715726, -0.2821348126696]
BI_BWD_1 = [-0.2069664997295, 0.537049566998]
BI_OUT = [
    [BI_FWD_0[0] + BI_BWD_0[0], BI_FWD_0[1] + BI_BWD_0[1], BI_FWD_0[2] + BI_BWD_0[2]],
    [BI_FWD_1 + BI_BWD_1, [0.0] * 4, [0.0] * 4],  # (list concatenation, not addition)
]
# h_n (directions, batch, H): forward ends at each sequence's last real step, backward at
# its first step.
BI_H_N = [[BI_FWD_0[2], BI_FWD_1], [BI_BWD_0[0], BI_BWD_1]]


@pytest.mark.parametrize("engine", ["loop", "auto"])
def test_recurrent_bidirectional_elman_with_lengths(engine: str) -> None:
    layer = Recurrent("elman", 1, 2, bidirectional=True, engine=engine).double()
    assert layer.uses_fused == (engine == "auto")
    set_weights(layer.cells[0], ELMAN_FWD)
    set_weights(layer.cells[1], ELMAN_BWD)
    out, final = layer(t(BI_X), lengths=torch.tensor(BI_LENGTHS))
    torch.testing.assert_close(out, t(BI_OUT), **TOL)
    assert isinstance(final, RNNState)
    torch.testing.assert_close(final.h, t(BI_H_N), **TOL)
