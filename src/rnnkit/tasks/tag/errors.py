"""What a person reads after ``tag eval``: the report as a table, and every sentence the
tagger got wrong, token by token."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from rnnkit.atomic import atomic_write_lines
from rnnkit.tasks.tag.data import Sentences
from rnnkit.tasks.tag.metrics import TaggingReport

__all__ = ["format_report", "write_errors"]


def format_report(report: TaggingReport, scheme: str) -> list[str]:
    """The report as aligned lines: overall and per-type (per-label) scores, token accuracy,
    and the confusion table of entity types (true type: what was predicted over its span)."""
    what = "labels (macro)" if scheme == "none" else "entities"
    o = report.overall
    lines = [
        f"{what}: precision {o.precision:.4f}  recall {o.recall:.4f}  F1 {o.f1:.4f}  "
        f"({o.support:,} true, {o.predicted:,} predicted)",
        f"token accuracy {report.token_accuracy:.4f}",
        f"{'type':<12} {'precision':>9} {'recall':>9} {'F1':>9} {'support':>8}",
    ]
    for kind, s in report.per_type.items():
        lines.append(
            f"{kind:<12} {s.precision:>9.4f} {s.recall:>9.4f} {s.f1:>9.4f} {s.support:>8,}"
        )
    if report.confusion:
        lines.append("confusion (true -> predicted: count)")
        for true, row in report.confusion.items():
            cells = ", ".join(
                f"{pred} {n:,}" for pred, n in sorted(row.items(), key=lambda x: -x[1])
            )
            lines.append(f"  {true:<10} -> {cells}")
    return lines


def write_errors(path: Path, sentences: Sentences, predicted: Sequence[Sequence[str]]) -> int:
    """Writes each sentence whose predicted tags differ from the true ones: a header line,
    then ``token  true  predicted`` per token with ``<<`` on the wrong ones. Returns how many
    sentences were written."""
    assert sentences.tags is not None
    count = 0

    def lines() -> Iterator[str]:
        nonlocal count
        rows = zip(sentences.inputs, sentences.tags, predicted, strict=True)
        for n, (tokens, true, guess) in enumerate(rows, start=1):
            if list(true) == list(guess):
                continue
            count += 1
            words = [str(t) for t in tokens] if isinstance(tokens, list) else [""] * len(true)
            width = max(len(w) for w in words)
            tag_width = max(len(t) for t in true)
            yield f"# sentence {n} of {sentences.source}\n"
            for word, a, b in zip(words, true, guess, strict=True):
                mark = "  <<" if a != b else ""
                yield f"{word:<{width}}  {a:<{tag_width}}  {b}{mark}\n"
            yield "\n"

    atomic_write_lines(path, lines())
    return count
