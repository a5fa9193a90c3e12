"""``DataError``: a data file or dataset problem, located by file, line and field."""

from __future__ import annotations

from os import PathLike

from rnnkit.config import RnnkitError

__all__ = ["DataError"]


class DataError(RnnkitError):
    """A data file is missing, unreadable or malformed, or a dataset is unknown or unverified.

    The message starts with where the problem is, as compilers do (``file:line:``), then the
    field, then what was expected and what was got. Parts that do not apply are left out.
    The command line prints it after ``error:`` and exits with code 1.

    Args:
        message: What was expected and what was got, and how to fix it where that helps.
        file: The file the problem is in, or None.
        line: The 1-based line number in ``file``, or None.
        field: The column, key or argument the problem is about, or None.

    Example:
        >>> str(DataError("expected a number, got 'abc'", file="data/x.csv", line=12,
        ...               field="price"))
        "data/x.csv:12: field 'price': expected a number, got 'abc'"
        >>> str(DataError("no such file", file="data/x.csv"))
        'data/x.csv: no such file'
        >>> DataError("unknown dataset 'ptbb'").exit_code
        1
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | PathLike[str] | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.file = None if file is None else str(file)
        self.line = line
        self.field = field
        super().__init__(self._format())

    def _format(self) -> str:
        where = ""
        if self.file is not None:
            where = self.file if self.line is None else f"{self.file}:{self.line}"
        elif self.line is not None:
            where = f"line {self.line}"
        parts = [where] if where else []
        if self.field is not None:
            parts.append(f"field {self.field!r}")
        return ": ".join([*parts, self.message])
