"""The text-encoding artifact every text job keeps in its run: the vocabulary, and the
sentencepiece model where the tokens are subword pieces.

A run holds it as ``vocab.json`` (and ``tokenizer.model``); training writes it once and
prediction reads the same files, so text is encoded exactly as in training. How text is cut
before that (characters, words, the classifier's preprocessing pipeline) is the job's
config, saved in ``config.json``.
"""

from __future__ import annotations

from dataclasses import dataclass

from rnnkit.data import Vocabulary
from rnnkit.data.subword import SubwordTokenizer
from rnnkit.training.rundir import RunDir, RunDirError

__all__ = ["TOKENIZER_FILE", "TextEncoding"]

TOKENIZER_FILE = "tokenizer.model"


@dataclass(frozen=True)
class TextEncoding:
    """Tokens <-> ids, and the subword model that makes the tokens (None for characters and
    words).

    Attributes:
        vocab: The token <-> id map of the model's inputs (and outputs).
        tokenizer: The sentencepiece model whose pieces ``vocab`` lists, or None.
    """

    vocab: Vocabulary
    tokenizer: SubwordTokenizer | None = None

    def save(self, run: RunDir) -> None:
        """Writes ``vocab.json`` (and ``tokenizer.model``) into ``run``."""
        run.write_extra("vocab", self.vocab.to_dict())
        if self.tokenizer is not None:
            run.write_binary_extra(TOKENIZER_FILE, self.tokenizer.to_bytes())

    @classmethod
    def read(cls, run: RunDir, *, subword: bool = False) -> TextEncoding:
        """The encoding :meth:`save` wrote; plain data, nothing is unpickled.

        Raises:
            RunDirError: A file is missing, or the subword model and ``vocab.json`` disagree.
            DataError: A file is malformed.
        """
        vocab = Vocabulary.from_dict(run.read_extra("vocab"), file=run.path / "vocab.json")
        if not subword:
            return cls(vocab)
        path = run.path / TOKENIZER_FILE
        tokenizer = SubwordTokenizer.from_bytes(run.read_binary_extra(TOKENIZER_FILE), file=path)
        if tokenizer.vocabulary() != vocab:
            raise RunDirError(f"{TOKENIZER_FILE} and vocab.json hold different pieces", path=path)
        return cls(vocab, tokenizer)
