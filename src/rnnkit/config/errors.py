"""The errors a user's input causes, and the wording of their messages."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

__all__ = [
    "ConfigError",
    "RnnkitError",
    "did_you_mean",
    "got",
    "join",
    "one_of",
    "type_error",
    "unknown_key",
]


class RnnkitError(Exception):
    """Base of the errors a user's input causes (bad data, config, run directory, checkpoint).

    The command line prints the message alone (no traceback unless ``--debug``) and exits
    with ``exit_code``: 1 for data and file problems, 2 for usage and config problems.
    Subclasses live beside the code that raises them (``DataError`` in ``rnnkit.data``,
    ``CheckpointError`` in ``rnnkit.training``).
    """

    exit_code = 1


class ConfigError(RnnkitError, ValueError):
    """A config value, key or override is invalid.

    The message starts with the dotted key path when there is one
    (``model.hidden_size: expected int, got '64' (str)``).

    Args:
        message: What was expected and what was got.
        key: Dotted path of the offending key, or None when the error is about the whole
            config (e.g. malformed JSON).

    Example:
        >>> str(ConfigError("expected int, got 'a' (str)", key="model.hidden_size"))
        "model.hidden_size: expected int, got 'a' (str)"
    """

    exit_code = 2

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(f"{key}: {message}" if key else message)
        self.key = key
        self.message = message

    def under(self, prefix: str) -> ConfigError:
        """Returns the same error with its key moved under ``prefix`` (a parent key path)."""
        if not prefix:
            return self
        return ConfigError(self.message, key=join(prefix, self.key) if self.key else prefix)


def join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def got(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def type_error(path: str, expected: str, value: Any) -> ConfigError:
    return ConfigError(f"expected {expected}, got {got(value)}", key=path or None)


def one_of(choices: Iterable[Any]) -> str:
    return "one of " + ", ".join(repr(c) for c in choices)


def did_you_mean(value: Any, choices: Iterable[Any]) -> str:
    """' (did you mean 'x'?)' for the closest string choice, or '' when none is close."""
    if not isinstance(value, str):
        return ""
    words = [c for c in choices if isinstance(c, str)]
    close = difflib.get_close_matches(value, words, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown_key(full: str, key: Any, valid: Iterable[str]) -> ConfigError:
    valid = list(valid)
    hint = did_you_mean(str(key), valid)
    return ConfigError(f"unknown key{hint}; valid keys: {', '.join(valid)}", key=full)
