"""Sequence detection with the NumPy reference engine: flag every "UDACITY" in a letter stream.

A stream of random capital letters arrives one letter per step (one-hot, 26 inputs). Here and
there the seven-letter word U, D, A, C, I, T, Y is planted, together with decoys that look
like it: a prefix that breaks off ("UDAC" + a wrong letter), the word with one letter changed
("UDACITX", "XDACITY", "UDAXITY") or a prefix that restarts ("UDAUDACITY"). The target at step
t is 1 exactly when a complete occurrence of the word ends at t. To get it right the network
has to remember, in its hidden state, how much of the word it has seen so far — a small
finite-state machine that the recurrence must learn from examples.

Model: one recurrent layer from :mod:`rnnkit.reference` (Elman by default, LSTM optional),
followed by a linear readout written out below in NumPy (the reference cells output h_t),
a sigmoid and binary cross-entropy. Training uses only the reference engine: its
forward/backward (full BPTT over each training stream), gradient clipping by the global norm
(Pascanu, Mikolov & Bengio 2013, Algorithm 1) and Adam. No torch is imported.

Run: ``python examples/pattern_detector.py`` (a few seconds on a laptop).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from rnnkit import reference  # NumPy only: rnnkit's package root loads torch lazily

losses, optim = reference.losses, reference.optim

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
PATTERN = "UDACITY"
PATTERN_CODES = np.array([ALPHABET.index(c) for c in PATTERN])
GATES = {"elman": 1, "gru": 3, "lstm": 4}  # rows of weight_ih per hidden unit


# ---- the data: random letters with planted words and decoys ---------------------------------


def _wrong_letter(rng: np.random.Generator, right: int) -> int:
    """A random letter code other than ``right``."""
    return int((right + rng.integers(1, len(ALPHABET))) % len(ALPHABET))


def _segment(rng: np.random.Generator, p_word: float) -> np.ndarray:
    """One planted segment: the full word (probability ``p_word``) or a decoy.

    Decoys are half broken-off prefixes (the first k letters, then a letter that is not the
    (k+1)-th) and half the full-length word with exactly one letter substituted.
    """
    if rng.random() < p_word:
        return PATTERN_CODES.copy()
    if rng.random() < 0.5:  # prefix of length 1..6, then a wrong letter
        k = int(rng.integers(1, len(PATTERN)))
        wrong = _wrong_letter(rng, PATTERN_CODES[k])
        return np.append(PATTERN_CODES[:k], wrong)
    segment = PATTERN_CODES.copy()  # one substitution, anywhere (XDACITY ... UDACITX)
    k = int(rng.integers(len(PATTERN)))
    segment[k] = _wrong_letter(rng, segment[k])
    return segment


def make_stream(
    rng: np.random.Generator, length: int, p_plant: float = 0.08, p_word: float = 0.5
) -> np.ndarray:
    """Letter codes (length,): uniform random letters with words and decoys planted.

    At each free position a segment (:func:`_segment`) starts with probability ``p_plant``;
    segments may follow each other directly, which produces restarts such as "UDAUDACITY".
    """
    stream = rng.integers(len(ALPHABET), size=length)
    t = 0
    while t < length:
        if rng.random() < p_plant:
            segment = _segment(rng, p_word)[: length - t]
            stream[t : t + len(segment)] = segment
            t += len(segment)
        else:
            t += 1
    return stream


def pattern_targets(stream: np.ndarray) -> np.ndarray:
    """(T,) 0/1: 1 at step t when ``stream[t-6 : t+1]`` spells the word.

    Computed from the stream itself, so chance occurrences count and decoys never do.
    """
    n, T = len(PATTERN_CODES), len(stream)
    targets = np.zeros(T, dtype=np.int8)
    if n <= T:
        windows = np.lib.stride_tricks.sliding_window_view(stream, n)  # (T-n+1, n)
        targets[n - 1 :] = (windows == PATTERN_CODES).all(axis=1)
    return targets


def one_hot(codes: np.ndarray, dtype=np.float64) -> np.ndarray:
    """(..., ) letter codes -> (..., 26) one-hot vectors."""
    return np.eye(len(ALPHABET), dtype=dtype)[codes]


def make_batch(
    rng: np.random.Generator, batch: int, steps: int, dtype=np.float64, **plant
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(x (B, T, 26), targets (B, T, 1), codes (B, T))`` for ``batch`` fresh streams.

    ``plant`` goes to :func:`make_stream` (``p_plant``, ``p_word``).
    """
    codes = np.stack([make_stream(rng, steps, **plant) for _ in range(batch)])
    return encode(codes, dtype)


def encode(codes: np.ndarray, dtype=np.float64) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Letter codes (B, T) -> ``(x (B, T, 26), targets (B, T, 1), codes)``."""
    targets = np.stack([pattern_targets(s) for s in codes])
    return one_hot(codes, dtype), targets[..., None].astype(dtype), codes


def decode(codes: np.ndarray) -> str:
    """Letter codes -> the string they spell."""
    return "".join(ALPHABET[c] for c in codes)


# ---- the model: a reference cell plus a linear readout -------------------------------------

READOUT = ("weight_y", "bias_y")


def init_params(
    rng: np.random.Generator, hidden: int, family: str = "elman", dtype=np.float64
) -> dict[str, np.ndarray]:
    """Cell parameters (torch's names and U(-1/√H, 1/√H) init) plus the readout W_y, b_y.

    b_y starts at -4 (σ(-4) ≈ 0.02): positives are rare, so the untrained detector starts
    by saying "no" instead of spending its first steps learning the base rate.
    """
    gates, k = GATES[family] * hidden, 1.0 / np.sqrt(hidden)
    shapes = {
        "weight_ih": (gates, len(ALPHABET)),
        "weight_hh": (gates, hidden),
        "bias_ih": (gates,),
        "bias_hh": (gates,),
        "weight_y": (1, hidden),
    }
    params = {name: rng.uniform(-k, k, size=shape).astype(dtype) for name, shape in shapes.items()}
    params["bias_y"] = np.full(1, -4.0, dtype=dtype)
    return params


def cell_params(params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The recurrent cell's share of ``params`` (the same arrays, not copies)."""
    return {name: p for name, p in params.items() if name not in READOUT}


def readout_forward(h: np.ndarray, weight_y: np.ndarray, bias_y: np.ndarray) -> np.ndarray:
    """Linear readout at every step: ``z_t = h_t W_yᵀ + b_y`` (the logits; ŷ_t = σ(z_t)).

    Shapes:
        h (B, T, H), weight_y (1, H), bias_y (1) -> z (B, T, 1).
    """
    return h @ weight_y.T + bias_y


def readout_backward(
    dz: np.ndarray, h: np.ndarray, weight_y: np.ndarray
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Gradient of :func:`readout_forward` given ``dz = ∂E/∂z`` (B, T, 1).

    The readout is shared by all steps, so its gradients are sums over batch and time:

        ∂E/∂W_y = Σ_{b,t} dz_{b,t}ᵀ h_{b,t}      ∂E/∂b_y = Σ_{b,t} dz_{b,t}
        ∂E/∂h_{b,t} = dz_{b,t} W_y               (what BPTT receives at each step)

    Returns:
        ``(dh (B, T, H), {"weight_y": (1, H), "bias_y": (1,)})``.
    """
    H = h.shape[-1]
    dz2, h2 = dz.reshape(-1, 1), h.reshape(-1, H)  # (B·T, 1), (B·T, H)
    grads = {"weight_y": dz2.T @ h2, "bias_y": dz2.sum(axis=0)}
    return dz @ weight_y, grads


def predict(params: dict[str, np.ndarray], x: np.ndarray, family: str = "elman") -> np.ndarray:
    """ŷ = σ(readout(h)) (B, T) for inputs x (B, T, 26), from a zero initial state."""
    h, _, _ = reference.FAMILIES[family].forward(cell_params(params), x)
    z = readout_forward(h, params["weight_y"], params["bias_y"])
    return 1.0 / (1.0 + np.exp(-z[..., 0]))


def loss_and_grads(
    params: dict[str, np.ndarray],
    x: np.ndarray,
    targets: np.ndarray,
    family: str = "elman",
    per_step: bool = False,
    mask: np.ndarray | None = None,
) -> tuple:
    """Forward, BCE on the logits, readout backward, then BPTT through the cell.

    ``mask`` (B, T) selects the steps whose loss counts (all of them when None).

    Returns:
        ``(loss, grads)`` with the gradients of every entry of ``params``; with
        ``per_step`` also ``dh_norm`` (T, B), the norm ‖∂E/∂h_t‖ of the gradient reaching the
        hidden state at step t (from its own output and from all later steps).
    """
    fam, cell = reference.FAMILIES[family], cell_params(params)
    h, _, cache = fam.forward(cell, x)
    z = readout_forward(h, params["weight_y"], params["bias_y"])
    loss, dz = losses.binary_cross_entropy(z, targets, mask)  # mean; dz = (σ(z) - y)/count
    dh, grads = readout_backward(dz, h, params["weight_y"])
    result = fam.backward(cell, cache, dh, per_step=per_step)
    grads.update(result[0])
    if per_step:
        return loss, grads, result[4]
    return loss, grads


# ---- training and evaluation -------------------------------------------------------------


@dataclass
class Config:
    """Everything that decides a training run (the defaults train in a few seconds)."""

    family: str = "elman"
    hidden: int = 24
    steps: int = 600  # optimiser steps
    batch: int = 32
    length: int = 40  # letters per training stream (full BPTT over each)
    lr: float = 0.01  # Adam's step size at the start, cosine-decayed to lr_final
    lr_final: float = 5e-4
    clip: float = 0.5  # global-norm threshold (Pascanu et al. 2013)
    seed: int = 0
    log_every: int = 50


@dataclass
class History:
    """Per optimiser step: loss, ‖g‖ before clipping, and whether the step was clipped."""

    loss: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    clipped: list[bool] = field(default_factory=list)


def cosine_lr(step: int, config: Config) -> float:
    """Learning rate at ``step`` (1-based): cosine from ``lr`` down to ``lr_final``.

    The decay lets the last few hundred steps settle into a sharp detector instead of being
    knocked out of it by a late, large Adam step.
    """
    progress = (step - 1) / max(config.steps - 1, 1)
    return config.lr_final + 0.5 * (config.lr - config.lr_final) * (1 + np.cos(np.pi * progress))


def train(config: Config, log=None) -> tuple[dict[str, np.ndarray], History]:
    """Train with Adam on fresh random streams each step; returns ``(params, history)``.

    ``log(step, loss, mean_norm, max_norm, clipped_share)`` is called every
    ``config.log_every`` steps (and at the last), with the loss, the global gradient norm
    before clipping (mean and max) and the share of clipped steps since the previous call.
    """
    rng = np.random.default_rng(config.seed)
    params = init_params(rng, config.hidden, config.family)
    adam = optim.Adam(lr=config.lr)
    history = History()
    for step in range(1, config.steps + 1):
        adam.lr = cosine_lr(step, config)
        x, y, _ = make_batch(rng, config.batch, config.length)
        loss, grads = loss_and_grads(params, x, y, config.family)
        grads, norm = optim.clip_by_global_norm(grads, config.clip)
        adam.step(params, grads)  # in place: the cell sees the new arrays too
        history.loss.append(loss)
        history.grad_norm.append(norm)
        history.clipped.append(norm >= config.clip)
        if log is not None and (step % config.log_every == 0 or step == config.steps):
            recent = slice(-(((step - 1) % config.log_every) + 1), None)
            norms = history.grad_norm[recent]
            clipped = np.mean(history.clipped[recent])
            log(step, np.mean(history.loss[recent]), np.mean(norms), max(norms), clipped)
    return params, history


def detection_metrics(flags: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    """Per-step accuracy and occurrence-level precision/recall of 0/1 arrays of equal shape.

    An occurrence counts as detected only if the flag is raised at its final letter (the
    target step itself); a flag anywhere else is a false alarm. With no flags precision is 1
    (no false alarms), with no occurrences recall is 1 (nothing missed).
    """
    flags, targets = flags.astype(bool), targets.astype(bool)
    hits, n_flags, n_words = int((flags & targets).sum()), int(flags.sum()), int(targets.sum())
    return {
        "accuracy": float((flags == targets).mean()),
        "precision": hits / n_flags if n_flags else 1.0,
        "recall": hits / n_words if n_words else 1.0,
        "occurrences": n_words,
        "flags": n_flags,
        "steps": int(targets.size),
    }


def evaluate(
    params: dict[str, np.ndarray],
    family: str = "elman",
    *,
    seed: int = 12345,
    streams: int = 200,
    length: int = 100,
    **plant,
) -> dict[str, float]:
    """:func:`detection_metrics` of the flags ŷ_t > 0.5 on held-out streams.

    The streams have their own seed and are longer than the training streams; ``plant``
    (``p_plant``, ``p_word``) goes to :func:`make_stream`, e.g. ``p_word=0`` for decoys only.
    """
    x, y, _ = make_batch(np.random.default_rng(seed), streams, length, **plant)
    return detection_metrics(predict(params, x, family) > 0.5, y[..., 0])


def gradient_reach(
    params: dict[str, np.ndarray], family: str = "elman", *, seed: int = 7, length: int = 30
) -> np.ndarray:
    """How far back the error of one decision reaches: ‖∂E_T/∂h_t‖ for t = 0..T-1.

    One batch of 32 held-out streams whose last seven letters are the word, and
    E_T = the BCE of the final step only (a mask on the loss), backpropagated with
    ``backward(..., per_step=True)``; its ``dh_norm`` (T, B) is averaged over the batch.
    """
    rng = np.random.default_rng(seed)
    codes = np.stack([make_stream(rng, length) for _ in range(32)])
    codes[:, -len(PATTERN) :] = PATTERN_CODES
    x, y, _ = encode(codes)
    last_only = np.zeros(codes.shape, dtype=bool)
    last_only[:, -1] = True
    _, _, dh_norm = loss_and_grads(params, x, y, family, per_step=True, mask=last_only)
    return dh_norm.mean(axis=1)


def sample_flags(
    params: dict[str, np.ndarray], family: str = "elman", *, seed: int = 3, length: int = 60
) -> tuple[str, str, str]:
    """One held-out stream as text, with ``^`` under each true end and ``!`` under each flag."""
    x, y, codes = make_batch(np.random.default_rng(seed), 1, length, p_plant=0.15)
    flags = predict(params, x, family)[0] > 0.5
    truth = "".join("^" if t else " " for t in y[0, :, 0])
    marks = "".join("!" if f else " " for f in flags)
    return decode(codes[0]), truth, marks


def _print_log(step: int, loss: float, mean_norm: float, max_norm: float, share: float) -> None:
    """One line of the training log."""
    print(f"{step:6d} {loss:10.6f} {mean_norm:10.4f} {max_norm:10.4f} {share:8.0%}")


def _print_reach(before: np.ndarray, after: np.ndarray, shown: int = 16) -> None:
    """‖∂E_T/∂h_t‖ of the untrained and trained networks, each relative to its value at T-1."""
    T = len(after)
    rel_before, rel_after = before / before[-1], after / after[-1]
    top = rel_after[T - shown :].max()
    print(
        f"how far back the last step's error reaches: mean ‖∂E_T/∂h_t‖ over 32 streams "
        f"ending in {PATTERN}\n(the word fills T-7..T-1), relative to t = T-1; bar: trained"
    )
    print(f"  {'t':>5} {'untrained':>10} {'trained':>10}")
    for t in range(T - 1, max(T - 1 - shown, -1), -1):
        bar = "#" * int(round(30 * rel_after[t] / top))
        print(f"  {f'T-{T - t}':>5} {rel_before[t]:10.2e} {rel_after[t]:10.2e} {bar}")


def main(config: Config | None = None) -> None:
    """Train, then print the loss curve, the gradient's reach back in time and the metrics."""
    config = config or Config()
    print(
        f"{config.family}, H = {config.hidden}: {config.steps} Adam steps on batches of "
        f"{config.batch} streams x {config.length} letters, clipping at ‖g‖ = {config.clip}"
    )
    print(f"{'step':>6} {'loss':>10} {'mean ‖g‖':>10} {'max ‖g‖':>10} {'clipped':>8}")
    start = time.perf_counter()
    untrained = init_params(np.random.default_rng(config.seed), config.hidden, config.family)
    params, _ = train(config, log=_print_log)
    print(f"trained in {time.perf_counter() - start:.1f} s\n")

    _print_reach(gradient_reach(untrained, config.family), gradient_reach(params, config.family))

    m = evaluate(params, config.family)
    print(
        f"\nheld-out streams: {m['steps']} steps, {m['occurrences']} occurrences, "
        f"{m['flags']} flags\n  per-step accuracy {m['accuracy']:.3%}   "
        f"precision {m['precision']:.2%}   recall {m['recall']:.2%}"
    )
    text, truth, marks = sample_flags(params, config.family)
    print("\nsample (^ = the word ends here, ! = the model flags it):")
    print(f"  {text}\n  {truth}\n  {marks}")


if __name__ == "__main__":
    main()
