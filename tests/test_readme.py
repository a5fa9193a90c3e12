"""The README's Python examples run, as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_readme_has_examples():
    assert python_blocks()


def _tiny_demo_run(root: Path) -> None:
    """A stand-in for `make demo`'s run (a few steps on the README's own text)."""
    from rnnkit.config import StackConfig
    from rnnkit.models import LMModelConfig
    from rnnkit.tasks import lm
    from rnnkit.training.config import StreamTrainConfig

    text = root / "readme.txt"
    text.write_text(README.read_text(encoding="utf-8"))
    config = lm.LMConfig(
        data=lm.LMDataConfig(data=str(text), level="char", batch_size=4, eval_batch_size=2),
        model=LMModelConfig(embedding_size=8, rnn=StackConfig(hidden_size=16)),
        train=StreamTrainConfig(epochs=1, max_steps=3, bptt=16, device="cpu"),
    )
    lm.train(config, root / "runs" / "demo")


def test_readme_examples_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for block in python_blocks():
        if "runs/demo" in block and not (tmp_path / "runs" / "demo").exists():
            _tiny_demo_run(tmp_path)
        exec(compile(block, str(README), "exec"), {"__name__": "readme"})
