"""The text the CoNLL-2003 contextual string embeddings' character language models read.

``python -m benchmarks.ner_lm_corpus --out FILE`` writes, one sentence or paragraph per line:
eng.train's sentences (tokens joined by single spaces, as the tagger joins them), then
WikiText-2's training articles with their heading lines left out and the split markers
``@-@``, ``@,@`` and ``@.@`` joined back (``1 @,@ 000`` -> ``1,000``, as CoNLL writes
numbers). Neither eng.testa nor eng.testb is read: the language models never see the text
the tagger is chosen or scored on. About 12 M characters.
"""

from __future__ import annotations

import argparse
import gzip
import re
from collections.abc import Iterator
from pathlib import Path

from rnnkit.atomic import atomic_write_lines
from rnnkit.data.registry import locate
from rnnkit.tasks.tag import data as tdata
from rnnkit.tasks.tag.config import TagDataConfig

_JOINED = re.compile(r" @([-,.])@ ")


def conll_lines() -> Iterator[str]:
    """eng.train's sentences, tokens joined by single spaces."""
    config = TagDataConfig(dataset="conll2003")
    for tokens in tdata.load_split(config, locate("conll2003", "train")).inputs:
        yield " ".join(tokens)


def wikitext_lines(path: Path) -> Iterator[str]:
    """WikiText-2's paragraphs without headings (`` = Title = ``) and blank lines."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if line and not line.startswith("="):
                yield _JOINED.sub(r"\1", line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    wiki = Path(locate("wikitext-2", "train"))
    lines = [*conll_lines(), *wikitext_lines(wiki)]
    atomic_write_lines(args.out, (line + "\n" for line in lines))
    print(f"{args.out}: {len(lines):,} lines, {sum(map(len, lines)) + len(lines):,} characters")


if __name__ == "__main__":
    main()
