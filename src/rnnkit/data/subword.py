"""``SubwordTokenizer``: subword pieces from a trained sentencepiece model (unigram or BPE).

The third language-modeling level, after ``char`` and ``word``. A sentencepiece model
(Kudo & Richardson 2018) is trained on the training text only; it cuts every line into
pieces drawn from a fixed vocabulary of ``vocab_size`` pieces, so frequent words are one
piece and rare words are spelled with several. A piece that starts a word carries the
word-start marker ``▁`` (U+2581), which is how the spaces come back::

    "the recurrent core"  ->  ['▁the', '▁re', 'current', '▁core', '<eos>']   (for example)

Conventions shared with the word level (:func:`rnnkit.data.corpus.tokenize`):

- Every line ends with ``<eos>``; :meth:`SubwordTokenizer.decode` turns it back into a
  newline.
- Runs of whitespace are one space and a line's outer whitespace is dropped, so a line has
  the same words as at the word level. Characters are kept as given (no Unicode
  normalisation), as at the char and word levels.
- A literal ``<unk>`` in the text (Penn Treebank marks rare words so) is one piece, ``<unk>``,
  and so is any character the training text never had: both mean "something unknown". The
  piece before a literal ``<unk>`` is a lone ``▁`` (its space).

The model is plain data (a serialised protocol buffer, :meth:`SubwordTokenizer.to_bytes`),
never code; a run directory keeps it as ``tokenizer.model``.

Example:
    >>> text = "the cat sat on the mat\\nthe dog sat on the log\\n" * 20
    >>> tokenizer = SubwordTokenizer.train(text, vocab_size=18)
    >>> pieces = tokenizer.pieces("the cat sat\\n")
    >>> pieces
    ['▁', 't', 'h', 'e', '▁', 'c', 'at', '▁', 's', 'at', '<eos>']
    >>> tokenizer.decode(pieces)
    'the cat sat\\n'
    >>> tokenizer.pieces("a <unk> b")  # 'b' was never seen: <unk> as well
    ['▁', 'a', '▁', '<unk>', '▁', '<unk>', '<eos>']
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Literal, get_args

import sentencepiece

from rnnkit.config import ConfigError, validate_choice
from rnnkit.data.errors import DataError
from rnnkit.data.vocab import Vocabulary

__all__ = ["EOS", "MODEL_TYPES", "UNK", "ModelType", "SubwordTokenizer"]

UNK = "<unk>"
EOS = "<eos>"
ModelType = Literal["unigram", "bpe"]
MODEL_TYPES: tuple[str, ...] = get_args(ModelType)

# sentencepiece's own unknown piece. It never leaves this module: pieces() reports it as
# UNK, which is a user-defined piece so that a literal "<unk>" in the text stays one piece
# (sentencepiece refuses one name for both).
_SP_UNK = "<sp-unk>"
# Fixed, not the machine's core count: the unigram trainer's result depends on the number
# of threads, and a tokenizer must come out the same on every machine.
_TRAIN_THREADS = 2
_SP_DEFAULT_MAX_SENTENCE_BYTES = 4192  # sentencepiece skips longer lines unless told


class SubwordTokenizer:
    """Text <-> subword pieces with a trained sentencepiece model.

    Use :meth:`train` for a new model and :meth:`from_bytes` for a saved one.

    Args:
        model: A serialised sentencepiece model made by :meth:`train` (``<unk>`` a
            user-defined piece, ``<eos>`` the end-of-sentence piece).

    Raises:
        DataError: ``model`` is not such a sentencepiece model.
    """

    __slots__ = ("_processor", "_pieces", "_unknown_id")

    def __init__(self, model: bytes) -> None:
        if not isinstance(model, bytes | bytearray):
            raise DataError(f"expected bytes, got {type(model).__name__}", field="model")
        processor = sentencepiece.SentencePieceProcessor()
        try:
            processor.LoadFromSerializedProto(bytes(model))
        except (RuntimeError, OSError) as err:
            raise DataError(f"not a sentencepiece model ({err})", field="model") from None
        _check_specials(processor)
        self._processor = processor
        self._unknown_id = processor.unk_id()
        # Id -> piece, with sentencepiece's unknown piece reported as UNK.
        pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
        pieces[self._unknown_id] = UNK
        self._pieces = pieces

    # --- construction ------------------------------------------------------------------

    @classmethod
    def train(
        cls, text: str, vocab_size: int, model_type: ModelType = "unigram"
    ) -> SubwordTokenizer:
        """Trains a model on ``text`` (every non-empty line is a sentence), in memory.

        Deterministic: the same text and settings give the same model, byte for byte. Every
        character of ``text`` gets a piece (character coverage 1.0).

        Args:
            text: The training text.
            vocab_size: Tokens of the :meth:`vocabulary`, ``<unk>`` and ``<eos>`` included
                (the model has one piece more: sentencepiece's own unknown piece, which
                :meth:`pieces` reports as ``<unk>``).
            model_type: ``"unigram"`` (Kudo 2018) or ``"bpe"`` (Sennrich et al. 2016).

        Returns:
            The tokenizer.

        Raises:
            ConfigError: ``vocab_size`` is not an int >= 1 or does not fit the text (fewer
                pieces than the text has characters, or more than it can fill; the message
                gives the limit), ``model_type`` is not one of :data:`MODEL_TYPES`.
            DataError: ``text`` has no words.
        """
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < 1:
            raise ConfigError(f"expected an int >= 1, got {vocab_size!r}", key="subword_vocab")
        validate_choice("subword_model", model_type, MODEL_TYPES)
        lines = [line for line in (_normalise(raw) for raw in text.splitlines()) if line]
        if not lines:
            raise DataError("expected text with words to train a subword model on, got none")
        longest = max(len(line.encode("utf-8")) for line in lines)
        model = io.BytesIO()
        try:
            sentencepiece.SentencePieceTrainer.train(
                sentence_iterator=iter(lines),
                model_writer=model,
                model_type=model_type,
                vocab_size=vocab_size + 1,  # + sentencepiece's own unknown piece
                character_coverage=1.0,
                normalization_rule_name="identity",
                user_defined_symbols=[UNK],
                unk_piece=_SP_UNK,
                unk_id=0,
                eos_piece=EOS,
                eos_id=1,
                bos_id=-1,
                pad_id=-1,
                max_sentence_length=max(longest, _SP_DEFAULT_MAX_SENTENCE_BYTES),
                num_threads=_TRAIN_THREADS,
                minloglevel=2,  # warnings and errors only; library code never prints
            )
        except RuntimeError as err:
            raise ConfigError(_training_problem(err, vocab_size), key="subword_vocab") from None
        return cls(model.getvalue())

    @classmethod
    def from_bytes(
        cls, data: bytes, *, file: str | os.PathLike[str] | None = None
    ) -> SubwordTokenizer:
        """Reads a model back from :meth:`to_bytes` (plain data: nothing is executed).

        Args:
            data: The serialised model.
            file: The file ``data`` came from, named in errors.

        Raises:
            DataError: ``data`` is not a model made by :meth:`train`.
        """
        try:
            return cls(data)
        except DataError as err:
            raise DataError(err.message, file=file) from None

    def to_bytes(self) -> bytes:
        """The serialised sentencepiece model (what ``tokenizer.model`` holds)."""
        return self._processor.serialized_model_proto()

    # --- text <-> pieces ---------------------------------------------------------------

    def pieces(self, text: str) -> list[str]:
        """The pieces of ``text``, ``<eos>`` after every line (an empty line is ``<eos>``).

        Lines are ``str.splitlines()``'s, so a final newline adds no empty line.

        Example:
            >>> tokenizer = SubwordTokenizer.train("ab ab ba\\n" * 9, vocab_size=6)
            >>> tokenizer.pieces("ab\\n\\nba")
            ['▁', 'a', 'b', '<eos>', '<eos>', '▁ba', '<eos>']
        """
        lines = [_normalise(line) for line in text.splitlines()]
        table = self._pieces
        out: list[str] = []
        for ids in self._processor.encode(lines):
            out.extend(table[i] for i in ids)
            out.append(EOS)
        return out

    def decode(self, pieces: Iterable[str]) -> str:
        """The text of ``pieces``: ``▁`` becomes a space between words, ``<eos>`` a newline.

        ``decode(pieces(text)) == text`` for a normalised text: lines of words separated by
        single spaces, each line ending with a newline.

        Example:
            >>> tokenizer = SubwordTokenizer.train("ab ab ba\\n" * 9, vocab_size=6)
            >>> tokenizer.decode(["▁", "a", "b", "▁ba", "<eos>", "▁ba"])
            'ab ba\\nba'
        """
        return "".join(self.stream(pieces))

    def stream(self, pieces: Iterable[str], *, line: Sequence[str] = ()) -> Iterator[str]:
        """The text of ``pieces`` as they come: what each piece adds to what came before.

        For printing generated text piece by piece; ``"".join(stream(p)) == decode(p)``.
        Each step decodes the current line with sentencepiece and yields what is new, so
        the spaces are right (no space before a line's first word, one before each other).

        Args:
            pieces: The pieces, e.g. a generator that samples them.
            line: Pieces of an unfinished line already shown (a prompt's last line); the
                first piece continues it.

        Example:
            >>> tokenizer = SubwordTokenizer.train("ab ab ba\\n" * 9, vocab_size=6)
            >>> list(tokenizer.stream(["▁ba", "<eos>", "▁ba"], line=["▁", "a", "b"]))
            [' ba', '\\n', 'ba']
        """
        current = list(line)
        shown = self._decode_line(current)
        for piece in pieces:
            if piece == EOS:
                current, shown = [], ""
                yield "\n"
                continue
            current.append(piece)
            text = self._decode_line(current)
            # sentencepiece's decoding of known pieces only ever extends a line; the common
            # prefix is a guard, never a retraction of text already printed.
            yield text[len(os.path.commonprefix([shown, text])) :]
            shown = text

    def _decode_line(self, pieces: list[str]) -> str:
        return self._processor.decode_pieces(pieces) if pieces else ""

    # --- the vocabulary ----------------------------------------------------------------

    def vocabulary(self) -> Vocabulary:
        """The rnnkit vocabulary of the pieces: ``<unk>``, ``<eos>``, then the model's order.

        The specials come first as in :meth:`Vocabulary.build`; the other pieces keep the
        model's id order (its ids shifted by the specials). Every piece :meth:`pieces`
        returns is in it.

        Example:
            >>> SubwordTokenizer.train("ab ab ba\\n" * 9, vocab_size=6).vocabulary().tokens
            ('<unk>', '<eos>', '▁', 'a', 'b', '▁ba')
        """
        skip = {self._unknown_id, self._processor.eos_id(), self._processor.piece_to_id(UNK)}
        rest = [p for i, p in enumerate(self._pieces) if i not in skip]
        return Vocabulary([UNK, EOS, *rest], unk=UNK, eos=EOS)

    def __repr__(self) -> str:
        return f"SubwordTokenizer({len(self._pieces) - 1} pieces)"


def _normalise(line: str) -> str:
    """A line's words separated by single spaces (the word level's whitespace rule)."""
    return " ".join(line.split())


def _check_specials(processor: sentencepiece.SentencePieceProcessor) -> None:
    """``<eos>`` is the end-of-sentence piece and ``<unk>`` a piece of its own."""
    eos = processor.eos_id()
    if eos < 0 or processor.id_to_piece(eos) != EOS:
        raise DataError(f"expected {EOS!r} as the end-of-sentence piece", field="model")
    unk = processor.piece_to_id(UNK)
    if unk == processor.unk_id() or processor.is_control(unk):
        raise DataError(f"expected {UNK!r} as a user-defined piece", field="model")


def _training_problem(err: RuntimeError, vocab_size: int) -> str:
    """Why sentencepiece could not train, in rnnkit's words (its flags are not ours).

    Its piece counts include its own unknown piece, which the vocabulary does not have.
    """
    reason = str(err)
    too_small = re.search(r"smaller than required_chars\. \d+ vs (\d+)", reason)
    if too_small:
        return (
            f"expected at least {int(too_small.group(1)) - 1} pieces (one per character of "
            f"the training text, plus the specials), got {vocab_size}"
        )
    too_high = re.search(r"too high \(\d+\)\. Please set it to a value <= (\d+)", reason)
    if too_high:
        return (
            f"expected at most {int(too_high.group(1)) - 1} pieces (all this training text "
            f"can fill), got {vocab_size}"
        )
    # "INTERNAL: src/trainer_interface.cc(744) [(check) == (...)] what went wrong"
    reason = re.sub(r"^[A-Z_]+: \S+\(\d+\) \[.*?\] ", "", reason)
    return f"sentencepiece could not train {vocab_size} pieces on this text: {reason}"
