"""docs/reference-engine.md's Python examples run as written and print what the page shows.

Each ```python block runs in a fresh namespace; when a ```text block follows it directly,
that block must be exactly what the example printed.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "reference-engine.md"
BLOCK = re.compile(r"```python\n(.*?)```\n(?:\n```text\n(.*?)```)?", re.S)


def examples() -> list[tuple[str, str | None]]:
    return BLOCK.findall(DOC.read_text(encoding="utf-8"))


def test_the_page_has_examples_with_their_output():
    found = examples()
    assert len(found) >= 4
    assert sum(1 for _, shown in found if shown) >= 3


@pytest.mark.parametrize("index", range(len(examples())))
def test_example_runs_and_prints_what_the_page_shows(index):
    code, shown = examples()[index]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, f"{DOC}:example {index}", "exec"), {"__name__": "doc"})
    if shown:
        assert printed.getvalue() == shown
