"""``rnnkit embed train``: word2vec vectors from the user's own corpus (see ``data.word2vec``)."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import click

from rnnkit.atomic import check_parents
from rnnkit.cli.options import build_config, config_options
from rnnkit.data.embeddings import save_vectors
from rnnkit.data.errors import DataError
from rnnkit.data.text import TextConfig
from rnnkit.data.word2vec import TABLE_SUFFIXES, Word2VecConfig, read_corpus, train_word2vec


@dataclasses.dataclass(frozen=True, kw_only=True)
class _EmbedConfig:
    """The flags of ``embed train``: one config, so ``--config``/``--set`` appear once.

    A ``--config`` file nests them the same way: ``{"text": {...}, "word2vec": {...}}``.

    Attributes:
        text: Preprocessing applied to each line or record before training.
        word2vec: The training settings.
    """

    text: TextConfig = dataclasses.field(default_factory=TextConfig)
    word2vec: Word2VecConfig = dataclasses.field(default_factory=Word2VecConfig)


@click.group("embed")
def embed() -> None:
    """Word embeddings: train word2vec vectors on your own corpus."""


@embed.command("train")
@click.option(
    "--data",
    type=click.Path(path_type=Path),
    required=True,
    help=f"Corpus: plain text, one document per line, or a {'/'.join(TABLE_SUFFIXES)} file "
    "with a text column (.gz read transparently).",
)
@click.option(
    "--out", type=click.Path(path_type=Path), required=True, help="Vectors file to write."
)
@click.option(
    "--format",
    "vector_format",
    type=click.Choice(["word2vec-text", "glove"]),
    default="word2vec-text",
    show_default=True,
    help="word2vec-text has an 'N D' header line; glove has none.",
)
@click.option(
    "--text-col",
    help="Column (CSV/TSV) or key (JSONL) holding the text; tables only.  [default: text]",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@config_options(_EmbedConfig)
def train(
    data: Path,
    out: Path,
    vector_format: str,
    text_col: str | None,
    as_json: bool,
    **params: Any,
) -> None:
    """Train word2vec (gensim) on a corpus and write the word vectors to --out.

    Each line or record goes through the same text preprocessing flags as `rnnkit text
    preprocess`, so the words match the tokens a classifier with those flags reads.
    """
    config = build_config(_EmbedConfig, params)
    if out.is_dir():
        raise DataError("is a directory, expected the vectors file to write", file=out)
    check_parents(out)
    start = time.perf_counter()
    sentences = read_corpus(data, config.text, text_col=text_col)
    if not sentences:
        raise DataError("no tokens found (an empty file, or every line blank?)", file=data)
    words, vectors = train_word2vec(sentences, config.word2vec)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_vectors(out, words, vectors, format=vector_format)  # type: ignore[arg-type]
    summary = {
        "vocab_size": len(words),
        "dim": int(vectors.shape[1]),
        "sentences": len(sentences),
        "tokens": sum(map(len, sentences)),
        "seconds": round(time.perf_counter() - start, 3),
        "out": str(out),
        "format": vector_format,
    }
    if as_json:
        click.echo(json.dumps({"type": "summary", **summary}))
        return
    click.echo(f"vocabulary  {summary['vocab_size']} words (min_count {config.word2vec.min_count})")
    click.echo(f"dim         {summary['dim']}")
    click.echo(f"tokens      {summary['tokens']} in {summary['sentences']} lines")
    click.echo(f"time        {summary['seconds']:.1f} s")
    click.echo(f"wrote       {out} ({vector_format})")
