"""Forecasting baselines: naive, seasonal naive, and a closed-form linear model (NLinear/DLinear).

A forecasting model is only worth its training if it beats these. All of them read the same
test windows as the model, ``x`` of shape (W, L, C) (W windows of L look-back steps of C
channels), and return forecasts of shape (W, H, C) of the same channels, in whatever units
``x`` is in (scaled or raw): they never see a scaler.

Example:
    >>> import numpy as np
    >>> x = np.array([1.0, 2, 3, 4, 5, 6]).reshape(1, 6, 1)  # (W=1, L=6, C=1)
    >>> naive(x, 3)[0, :, 0]
    array([6., 6., 6.])
    >>> seasonal_naive(x, 5, season=3)[0, :, 0]
    array([4., 5., 6., 4., 5.])
"""

from __future__ import annotations

import numpy as np

from rnnkit.config import ConfigError
from rnnkit.tasks.forecast.metrics import check_windows

__all__ = ["LinearBaseline", "naive", "seasonal_naive"]

# Rows (window x channel pairs) per chunk when accumulating X^T X and X^T Y: about 70 MB of
# float64 for L=336, H=720, so ETTh1-sized problems (8,000 windows x 7 channels) or wide data
# sets (321 channels) fit in memory whatever W*C is.
_CHUNK_ROWS = 8192


def naive(x: np.ndarray, horizon: int) -> np.ndarray:
    """The last observed value of each window and channel, repeated ``horizon`` times.

    Args:
        x: Look-back windows.
        horizon: Number of future steps H to forecast, at least 1.

    Returns:
        The forecasts, a new float array (``x``'s dtype if floating, else float64).

    Raises:
        ConfigError: ``x`` is not a non-empty 3-D numeric array, or ``horizon`` < 1.

    Shapes:
        x: (W, L, C); returns (W, H, C).

    Example:
        >>> import numpy as np
        >>> x = np.array([[[1.0, 10.0], [2.0, 20.0]]])  # (W=1, L=2, C=2)
        >>> naive(x, 2).tolist()
        [[[2.0, 20.0], [2.0, 20.0]]]
    """
    windows = check_windows("x", x, "W, L, C")
    steps = _check_horizon(horizon)
    return np.repeat(windows[:, -1:, :], steps, axis=1)  # (W, H, C)


def seasonal_naive(x: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """The last full season of each window, repeated: ``y[t+h] = x[t+h-season*k]``.

    With ``t`` the window's last step and ``k = ceil(h / season)`` for ``h = 1..H``: step h of
    the forecast is the value one (or k) seasons before it, always taken from the look-back.
    ``season=1`` is :func:`naive`.

    Args:
        x: Look-back windows.
        horizon: Number of future steps H to forecast, at least 1.
        season: Season length in steps (24 for daily seasonality of hourly data), in [1, L].

    Returns:
        The forecasts, a new float array (``x``'s dtype if floating, else float64).

    Raises:
        ConfigError: Bad ``x`` or ``horizon``, or ``season`` outside [1, L] (key ``season``).

    Shapes:
        x: (W, L, C); returns (W, H, C).

    Example:
        >>> import numpy as np
        >>> x = np.arange(1.0, 7.0).reshape(1, 6, 1)  # 1 2 3 4 5 6
        >>> seasonal_naive(x, 5, season=3)[0, :, 0].tolist()
        [4.0, 5.0, 6.0, 4.0, 5.0]
        >>> seasonal_naive(x, 2, season=7)
        Traceback (most recent call last):
            ...
        rnnkit.config.ConfigError: season: expected an int in [1, L=6], got 7
    """
    windows = check_windows("x", x, "W, L, C")
    steps = _check_horizon(horizon)
    length = windows.shape[1]
    if isinstance(season, bool) or not isinstance(season, int | np.integer):
        raise ConfigError(
            f"expected an int, got {season!r} ({type(season).__name__})", key="season"
        )
    if not 1 <= season <= length:
        raise ConfigError(f"expected an int in [1, L={length}], got {season}", key="season")
    h = np.arange(1, steps + 1)  # (H,)
    # Index of x[t + h - season * ceil(h / season)] with t = L - 1; equal to
    # L - season + (h - 1) % season, i.e. cycling through the last full season.
    source = length - 1 + h - season * -(-h // season)  # (H,)
    return windows[:, source, :].copy()  # (W, H, C)


class LinearBaseline:
    """One linear map from a channel's look-back to its future, fitted in closed form.

    The model (NLinear, Zeng et al. 2023, "Are Transformers Effective for Time Series
    Forecasting?", shared across channels): for every window and channel independently,

        y = (x - x_L) @ W + b + x_L          (normalize=True, the default)
        y = x @ W + b                        (normalize=False)

    with ``x`` the channel's L look-back values, ``x_L`` the last of them, ``W`` an (L, H)
    matrix and ``b`` an (H,) intercept, one ``W`` and ``b`` for all channels
    (channel-independent, as DLinear's and NLinear's shared variant). Subtracting the last
    value makes the forecast move with the series' level (``x + c`` forecasts ``y + c``), so a
    level shift between training and test windows costs nothing; it also means ridge shrinks
    towards the naive forecast rather than towards zero.

    Why this covers DLinear (Zeng et al. 2023): DLinear splits the look-back into a trend (a
    moving average, kernel 25, with replicated ends) and the seasonal remainder, and maps each
    through its own linear layer. A moving average is linear in ``x``, so the sum of the two
    layers is again one affine map ``x @ A + b``: DLinear's model class is the set of affine
    maps of the look-back, exactly what ``normalize=False`` fits by least squares. With
    ``normalize=True`` the class is the affine maps whose weights per output step sum to 1
    (level-equivariant), a subset that contains NLinear's and every forecast that follows a
    level shift. Either way the differences to the papers are the fit (exact least squares
    instead of SGD with early stopping) and the regularisation (ridge instead of none).

    Fitting minimises the squared error over all training windows and channels plus
    ``lam * ||W||^2`` (the intercept is not penalised), with ``lam = ridge * mean(diag(X^T X))``
    over the look-back features: relative to the data's scale, so one ``ridge`` suits scaled
    and raw units alike. X^T X and X^T Y are accumulated in chunks of rows, in float64, and
    solved with :func:`numpy.linalg.solve` (falling back to the minimum-norm least-squares
    solution when the system is singular, e.g. ``ridge=0`` on collinear data).

    Attributes:
        normalize: Whether the last look-back value is subtracted before and added back after.
        weight: After :meth:`fit`, the equivalent map on the raw window, float64 (L, H): the
            forecast is ``x @ weight + intercept`` in both modes (with ``normalize=True`` each
            column of ``weight`` sums to 1). None before.
        intercept: After :meth:`fit`, float64 (H,); None before.

    Shapes:
        fit: x_train (W, L, C), y_train (W, H, C); predict: x (W', L, C') -> (W', H, C').
        The channel count at prediction may differ from training (the map is per channel).

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> t = np.arange(40.0)[None, :, None] + rng.uniform(0, 100, (50, 1, 3))  # (50, 40, 3)
        >>> lines = 0.5 * t + rng.normal(size=(50, 1, 3))  # lines of slope 0.5, random level
        >>> model = LinearBaseline().fit(lines[:, :32], lines[:, 32:], ridge=1e-9)
        >>> model.weight.shape, model.intercept.shape
        ((32, 8), (8,))
        >>> x = 0.5 * np.arange(32.0).reshape(1, 32, 1) + 7.0  # ends at 22.5
        >>> np.round(model.predict(x)[0, :, 0], 6).tolist()
        [23.0, 23.5, 24.0, 24.5, 25.0, 25.5, 26.0, 26.5]
    """

    def __init__(self, *, normalize: bool = True) -> None:
        if not isinstance(normalize, bool):
            raise ConfigError(
                f"expected a bool, got {normalize!r} ({type(normalize).__name__})",
                key="normalize",
            )
        self.normalize = normalize
        self.weight: np.ndarray | None = None
        self.intercept: np.ndarray | None = None

    def __repr__(self) -> str:
        shape = (
            "unfitted"
            if self.weight is None
            else f"L={self.weight.shape[0]}, H={self.weight.shape[1]}"
        )
        return f"LinearBaseline(normalize={self.normalize}, {shape})"

    def fit(
        self,
        x_train: np.ndarray,
        y_train: np.ndarray,
        ridge: float = 1e-3,
        *,
        chunk_size: int | None = None,
    ) -> LinearBaseline:
        """Fits ``weight`` and ``intercept`` by ridge least squares on training windows.

        Every (window, channel) pair is one training row: its L look-back values predict its H
        future values.

        Args:
            x_train: Training look-back windows, finite.
            y_train: Their true futures, finite, same W and C as ``x_train``.
            ridge: Penalty on ``W`` relative to the mean diagonal of X^T X (see the class
                docstring), >= 0. 0 is plain least squares.
            chunk_size: Windows per chunk of the X^T X / X^T Y accumulation; None picks
                about 8192 rows (window x channel pairs) per chunk. Only memory use and
                rounding depend on it.

        Returns:
            ``self``, fitted.

        Raises:
            ConfigError: Bad shapes (the message names the argument, expected and got),
                non-finite values, a negative ``ridge`` or a ``chunk_size`` < 1.

        Shapes:
            x_train: (W, L, C); y_train: (W, H, C); weight: (L, H); intercept: (H,).
        """
        x = check_windows("x_train", x_train, "W, L, C")
        y = check_windows("y_train", y_train, "W, H, C")
        if y.shape[0] != x.shape[0] or y.shape[2] != x.shape[2]:
            raise ConfigError(
                f"expected shape (W={x.shape[0]}, H, C={x.shape[2]}) to match x_train "
                f"{x.shape}, got {y.shape}",
                key="y_train",
            )
        for name, array in (("x_train", x), ("y_train", y)):
            if not np.isfinite(array).all():
                raise ConfigError("expected finite values, got NaN or infinity", key=name)
        if isinstance(ridge, bool) or not isinstance(ridge, int | float | np.floating):
            raise ConfigError(f"expected a float, got {ridge!r}", key="ridge")
        if not (ridge >= 0 and np.isfinite(ridge)):
            raise ConfigError(f"expected a finite float >= 0, got {ridge}", key="ridge")
        windows, length, channels = x.shape
        if chunk_size is None:
            chunk_size = max(1, _CHUNK_ROWS // channels)
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
            raise ConfigError(f"expected an int >= 1 or None, got {chunk_size!r}", key="chunk_size")

        # With normalize the last feature (x_L - x_L) is always 0: leave it out, so that the
        # system stays non-singular for ridge=0 and the penalty's scale ignores it.
        features = length - 1 if self.normalize else length
        horizon = y.shape[1]
        # Augmented with a column of ones for the intercept: (F + 1) unknowns per output step.
        xtx = np.zeros((features + 1, features + 1))  # (F+1, F+1)
        xty = np.zeros((features + 1, horizon))  # (F+1, H)
        for start in range(0, windows, chunk_size):
            inputs, targets = self._rows(
                x[start : start + chunk_size], y[start : start + chunk_size]
            )
            design = np.empty((inputs.shape[0], features + 1))  # (R, F+1)
            design[:, :features] = inputs[:, :features]
            design[:, features] = 1.0
            xtx += design.T @ design
            xty += design.T @ targets
        penalty = ridge * float(np.trace(xtx[:features, :features])) / max(features, 1)
        if ridge > 0 and penalty == 0.0:
            penalty = ridge  # all-constant windows: any positive penalty gives W = 0
        system = xtx.copy()
        system[np.arange(features), np.arange(features)] += penalty  # the intercept is free
        try:
            solution = np.linalg.solve(system, xty)  # (F+1, H)
        except np.linalg.LinAlgError:
            solution = np.linalg.lstsq(system, xty, rcond=None)[0]  # minimum-norm solution
        weight = np.zeros((length, horizon))  # (L, H)
        weight[:features] = solution[:features]
        if self.normalize:
            # y = (x - x_L) @ W + x_L + b  ==  x @ A + b  with  A_L = 1 - sum_{j<L} W_j.
            weight[-1] = 1.0 - solution[:features].sum(axis=0)
        self.weight = weight
        self.intercept = solution[features].copy()
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Forecasts of the fitted model for look-back windows ``x``.

        Args:
            x: Look-back windows with the L the model was fitted on (any number of channels).

        Returns:
            The forecasts, float64.

        Raises:
            RuntimeError: :meth:`fit` was not called.
            ConfigError: ``x`` is not 3-D numeric or has another L.

        Shapes:
            x: (W, L, C); returns (W, H, C).
        """
        if self.weight is None or self.intercept is None:
            raise RuntimeError("LinearBaseline.predict: call fit() first")
        windows = check_windows("x", x, "W, L, C")
        length = self.weight.shape[0]
        if windows.shape[1] != length:
            raise ConfigError(
                f"expected shape (W, L={length}, C) as in fit(), got {windows.shape}", key="x"
            )
        inputs = windows.astype(np.float64).transpose(0, 2, 1)  # (W, C, L)
        if self.normalize:
            # Computed in the normalised form: exact for large levels, unlike x @ weight.
            last = inputs[:, :, -1:]  # (W, C, 1)
            out = (inputs - last) @ self.weight + self.intercept + last  # (W, C, H)
        else:
            out = inputs @ self.weight + self.intercept  # (W, C, H)
        return np.ascontiguousarray(out.transpose(0, 2, 1))  # (W, H, C)

    def _rows(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One chunk as regression rows, float64: inputs (R, L) and targets (R, H), R = W*C."""
        inputs = x.astype(np.float64).transpose(0, 2, 1).reshape(-1, x.shape[1])  # (W*C, L)
        targets = y.astype(np.float64).transpose(0, 2, 1).reshape(-1, y.shape[1])  # (W*C, H)
        if self.normalize:
            last = inputs[:, -1:]  # (W*C, 1)
            inputs = inputs - last
            targets = targets - last
        return inputs, targets


# ---------------------------------------------------------------------------------------------
# Internals
# ---------------------------------------------------------------------------------------------


def _check_horizon(horizon: int) -> int:
    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer):
        raise ConfigError(
            f"expected an int >= 1, got {horizon!r} ({type(horizon).__name__})", key="horizon"
        )
    if horizon < 1:
        raise ConfigError(f"expected an int >= 1, got {horizon}", key="horizon")
    return int(horizon)
