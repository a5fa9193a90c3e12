"""Checks of single values at public boundaries, with messages that name the argument."""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import TypeVar

from rnnkit.config.errors import ConfigError, did_you_mean, got, one_of

__all__ = ["validate_choice", "validate_fraction", "validate_positive"]

T = TypeVar("T")


def validate_choice(name: str, value: T, choices: Collection[T]) -> T:
    """Checks that ``value`` is one of ``choices``.

    Args:
        name: Argument name, used in the error message.
        value: The value to check.
        choices: The allowed values.

    Returns:
        ``value`` unchanged.

    Raises:
        ConfigError: ``value`` is not in ``choices``.

    Example:
        >>> validate_choice("cell", "gru", ("lstm", "gru"))
        'gru'
        >>> try:
        ...     validate_choice("cell", "gr", ("lstm", "gru"))
        ... except ConfigError as err:
        ...     print(err)
        cell: expected one of 'lstm', 'gru', got 'gr' (str) (did you mean 'gru'?)
    """
    # `type(...) is` keeps True from passing as 1 (bool is an int subclass).
    if any(value == c and type(value) is type(c) for c in choices):
        return value
    message = f"expected {one_of(choices)}, got {got(value)}"
    raise ConfigError(message + did_you_mean(value, choices), key=name)


def validate_positive(name: str, value: float) -> float:
    """Checks that ``value`` is a number greater than zero (bools are not numbers here).

    Args:
        name: Argument name, used in the error message.
        value: The value to check.

    Returns:
        ``value`` unchanged.

    Raises:
        ConfigError: ``value`` is not a positive int or float.

    Example:
        >>> validate_positive("hidden_size", 32)
        32
        >>> try:
        ...     validate_positive("hidden_size", 0)
        ... except ConfigError as err:
        ...     print(err)
        hidden_size: expected a positive number, got 0 (int)
    """
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    # `not value > 0` (rather than `value <= 0`) also rejects NaN.
    if not is_number or not value > 0:
        raise ConfigError(f"expected a positive number, got {got(value)}", key=name)
    if value == math.inf:  # a rate, a size or a count of inf only fails later, obscurely
        raise ConfigError(f"expected a finite positive number, got {got(value)}", key=name)
    return value


def validate_fraction(name: str, value: float) -> None:
    """Checks ``0 <= value < 1`` (a dropout probability of 1 would drop everything).

    Raises:
        ConfigError: ``value`` is outside [0, 1).
    """
    if not 0.0 <= value < 1.0:
        raise ConfigError(f"expected a float in [0, 1), got {got(value)}", key=name)
