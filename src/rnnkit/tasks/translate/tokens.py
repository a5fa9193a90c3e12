"""Each side's tokens: sentencepiece subwords (one model per side, or one shared) or
whitespace words, their vocabularies, and the way back to text.

Both vocabularies hold ``<pad>`` (id 0), ``<unk>`` and ``<eos>``. The target side needs no
start token: the decoder starts from ``<eos>`` (what ended "the sentence before"), as fairseq
does, and stops when it writes ``<eos>``:

    target tokens  y_1 .. y_n     decoder reads  <eos> y_1 .. y_n     and predicts  y_1 .. y_n <eos>

A run keeps ``src_vocab.json`` and ``tgt_vocab.json`` and, at the subword level,
``src_tokenizer.model`` and ``tgt_tokenizer.model`` (the same bytes with a joint vocabulary).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from rnnkit.data import Vocabulary
from rnnkit.data.parallel import Parallel
from rnnkit.data.subword import SubwordTokenizer
from rnnkit.tasks.translate.config import TranslateDataConfig
from rnnkit.training.rundir import RunDir

__all__ = ["PAD", "Side", "Sides", "fit_sides"]

PAD, UNK, EOS = "<pad>", "<unk>", "<eos>"


class Side(NamedTuple):
    """One language's tokens: its vocabulary and its subword model (None for words)."""

    vocab: Vocabulary
    tokenizer: SubwordTokenizer | None

    def tokens(self, text: str) -> list[str]:
        """The tokens of one sentence (no ``<eos>``; line breaks read as spaces)."""
        line = " ".join(text.split())
        if self.tokenizer is None:
            return line.split(" ") if line else []
        return [p for p in self.tokenizer.pieces(line) if p != EOS]

    def encode(self, text: str) -> list[int]:
        return self.vocab.encode(self.tokens(text))

    def text(self, ids: Sequence[int]) -> str:
        """The sentence of token ids (stopping at ``<eos>``, skipping padding): pieces
        joined back into words, or words by single spaces."""
        tokens = []
        for i in ids:
            if i == self.vocab.eos_id:
                break
            if i != self.vocab.pad_id:
                tokens.append(self.vocab[i])
        if self.tokenizer is None:
            return " ".join(tokens)
        return self.tokenizer.decode(tokens)


class Sides(NamedTuple):
    """The source side and the target side."""

    src: Side
    tgt: Side

    def save(self, run: RunDir) -> None:
        for name, side in (("src", self.src), ("tgt", self.tgt)):
            run.write_extra(f"{name}_vocab", side.vocab.to_dict())
            if side.tokenizer is not None:
                run.write_binary_extra(f"{name}_tokenizer.model", side.tokenizer.to_bytes())

    @classmethod
    def read(cls, run: RunDir, *, subword: bool) -> Sides:
        """What :meth:`save` wrote (plain data: nothing unpickled)."""
        sides = []
        for name in ("src", "tgt"):
            vocab = Vocabulary.from_dict(
                run.read_extra(f"{name}_vocab"), file=run.path / f"{name}_vocab.json"
            )
            tokenizer = None
            if subword:
                file = f"{name}_tokenizer.model"
                tokenizer = SubwordTokenizer.from_bytes(
                    run.read_binary_extra(file), file=run.path / file
                )
            sides.append(Side(vocab, tokenizer))
        return cls(*sides)


def fit_sides(train: Parallel, data: TranslateDataConfig) -> Sides:
    """Both sides' tokenizers and vocabularies, from the training pairs."""
    if data.tokens == "word":
        return Sides(*(_word_side(texts, data) for texts in (train.src, train.tgt)))
    if data.joint_vocab:
        shared = _subword_side([*train.src, *train.tgt], data)
        return Sides(shared, shared)
    return Sides(*(_subword_side(texts, data) for texts in (train.src, train.tgt)))


def _word_side(texts: Sequence[str], data: TranslateDataConfig) -> Side:
    tokens = (token for text in texts for token in text.split())
    vocab = Vocabulary.build(
        tokens, min_freq=data.min_freq, max_vocab=data.max_vocab, unk=UNK, eos=EOS, pad=PAD
    )
    return Side(vocab, None)


def _subword_side(texts: Sequence[str], data: TranslateDataConfig) -> Side:
    text = "\n".join(" ".join(t.split()) for t in texts)
    tokenizer = SubwordTokenizer.train(text, data.subword_vocab, data.subword_model)
    pieces = tokenizer.vocabulary()
    vocab = Vocabulary([PAD, *pieces.tokens], unk=UNK, eos=EOS, pad=PAD)
    return Side(vocab, tokenizer)
