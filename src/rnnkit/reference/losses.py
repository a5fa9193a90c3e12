"""Losses with their gradients, in NumPy: each returns ``(loss, dlogits)``.

All losses are means over the positions that count (``mask`` true), so the gradient of a
padded position is exactly zero and the loss does not depend on how much padding there is.
``mask`` has the shape of the predictions without their last (class/feature) axis and is
read as 0/1 weights.

Many-to-one training on variable-length sequences uses :func:`last_step` to pick each
sequence's last valid output and :func:`last_step_backward` to put the gradient back.
"""

from __future__ import annotations

import numpy as np

from rnnkit.reference.core import sigmoid, softmax

__all__ = [
    "binary_cross_entropy",
    "last_step",
    "last_step_backward",
    "mse",
    "softmax_cross_entropy",
]


def _weights(shape: tuple[int, ...], mask: np.ndarray | None, dtype: np.dtype) -> np.ndarray:
    """0/1 weights of shape ``shape`` (ones without a mask)."""
    if mask is None:
        return np.ones(shape, dtype=dtype)
    mask = np.asarray(mask)
    if mask.shape != shape:
        raise ValueError(f"mask must have shape {shape}, got {mask.shape}")
    return mask.astype(dtype)


def mse(
    pred: np.ndarray, target: np.ndarray, mask: np.ndarray | None = None
) -> tuple[float, np.ndarray]:
    """Mean squared error over valid positions and features.

        E = Σ w (p - y)² / (O Σ w)          dE/dp = 2 w (p - y) / (O Σ w)

    Shapes:
        pred, target (..., O) (e.g. (B, T, O) for every step, (B, O) for the last one);
        mask (...) or None.
    """
    w = _weights(pred.shape[:-1], mask, pred.dtype)[..., None]
    count = w.sum() * pred.shape[-1]
    diff = pred - target
    loss = float((w * diff * diff).sum() / count)
    dpred = 2.0 * w * diff / count
    return loss, dpred


def softmax_cross_entropy(
    logits: np.ndarray, targets: np.ndarray, mask: np.ndarray | None = None
) -> tuple[float, np.ndarray]:
    """Softmax cross-entropy with integer targets, mean over valid positions.

        E = -Σ w log softmax(l)_y / Σ w        dE/dl = w (softmax(l) - onehot(y)) / Σ w

    Shapes:
        logits (B, C) (many-to-one) or (B, T, C) (many-to-many); targets and mask (B) or (B, T).
    """
    w = _weights(logits.shape[:-1], mask, logits.dtype)
    shifted = logits - logits.max(axis=-1, keepdims=True)  # no overflow in exp
    log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    targets = np.asarray(targets)
    picked = np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]
    total = w.sum()
    loss = float(-(w * picked).sum() / total)
    dlogits = softmax(logits)
    np.put_along_axis(
        dlogits, targets[..., None], np.take_along_axis(dlogits, targets[..., None], -1) - 1, -1
    )
    return loss, dlogits * (w / total)[..., None]


def binary_cross_entropy(
    logits: np.ndarray, targets: np.ndarray, mask: np.ndarray | None = None
) -> tuple[float, np.ndarray]:
    """Binary cross-entropy on logits (σ applied inside), mean over valid elements.

        E = Σ w [softplus(l) - y l] / (O Σ w)    dE/dl = w (σ(l) - y) / (O Σ w)

    ``softplus(l) = max(l, 0) + log(1 + e^{-|l|})`` never overflows.

    Shapes:
        logits, targets (..., O) with targets in [0, 1]; mask (...) or None.
    """
    w = _weights(logits.shape[:-1], mask, logits.dtype)[..., None]
    count = w.sum() * logits.shape[-1]
    softplus = np.maximum(logits, 0.0) + np.log1p(np.exp(-np.abs(logits)))
    loss = float((w * (softplus - targets * logits)).sum() / count)
    dlogits = w * (sigmoid(logits) - targets) / count
    return loss, dlogits


def last_step(outputs: np.ndarray, lengths: np.ndarray | None = None) -> np.ndarray:
    """Each sequence's output at its last valid step: (B, T, O) -> (B, O)."""
    if lengths is None:
        return outputs[:, -1]
    return outputs[np.arange(outputs.shape[0]), np.asarray(lengths) - 1]


def last_step_backward(
    dlast: np.ndarray, shape: tuple[int, ...], lengths: np.ndarray | None = None
) -> np.ndarray:
    """Gradient of :func:`last_step`: (B, O) -> (B, T, O), zero except at the last steps."""
    doutputs = np.zeros(shape, dtype=dlast.dtype)
    steps = np.full(shape[0], shape[1]) if lengths is None else np.asarray(lengths)
    doutputs[np.arange(shape[0]), steps - 1] = dlast
    return doutputs
