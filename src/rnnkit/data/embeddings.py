"""Pretrained word vectors: load GloVe / word2vec / fastText files, build an embedding matrix.

Formats (``.gz`` files are read transparently):

- ``"glove"``: text, one ``word v1 ... vD`` per line, no header (Pennington et al. 2014).
- ``"word2vec-text"``: a header line ``N D``, then lines as in GloVe (Mikolov et al. 2013).
- ``"fasttext"``: fastText's ``.vec`` files, the word2vec text format.
- ``"word2vec-binary"``: the header line ``N D``, then per word the UTF-8 word, a space and
  ``D`` little-endian float32 values (word2vec's C tool also writes a newline after each).

:func:`load_vectors` streams a file line by line (entry by entry for binary files) into one
float32 array that grows in place, so a 1 GB file is never held twice, and it can keep only
the words a vocabulary needs. :func:`embedding_matrix` maps a vocabulary onto the vectors and
returns a :class:`CoverageReport`; :func:`save_vectors` writes vectors atomically.

Example:
    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "tiny.vec"
    >>> _ = save_vectors(path, ["good", "bad"], np.array([[1, 0], [0, 1]]))
    >>> words, vectors = load_vectors(path)
    >>> words, vectors.dtype, vectors.shape
    (['good', 'bad'], dtype('float32'), (2, 2))
    >>> matrix, report = embedding_matrix(["<pad>", "Good", "meh"], words, vectors, pad_index=0)
    >>> matrix[:2].tolist(), report.vocab_found, report.vocab_total
    ([[0.0, 0.0], [1.0, 0.0]], 1, 2)
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Container, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Literal

import numpy as np

from rnnkit.atomic import atomic_write_lines
from rnnkit.config import ConfigError, validate_choice
from rnnkit.data.errors import DataError
from rnnkit.data.named_vectors import NAMED_VECTORS, is_named, load_named_vectors
from rnnkit.data.readers import _check_file, _open_binary

__all__ = [
    "CoverageReport",
    "VectorFormat",
    "detect_format",
    "embedding_matrix",
    "load_vectors",
    "save_vectors",
    "vectors_for_vocabulary",
]

PathLike = str | os.PathLike[str]
VectorFormat = Literal["glove", "word2vec-text", "word2vec-binary", "fasttext"]
_FORMATS: tuple[str, ...] = ("auto", "glove", "word2vec-text", "word2vec-binary", "fasttext")
_SAVE_FORMATS = ("word2vec-text", "glove")
_HEADER = re.compile(rb"\s*(\d+)\s+(\d+)\s*")
_READ_SIZE = 1 << 20
# A word2vec binary word longer than this is a sign of a file in another format.
_MAX_WORD_BYTES = 10_000


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


def load_vectors(
    path: PathLike,
    *,
    format: Literal["auto", "glove", "word2vec-text", "word2vec-binary", "fasttext"] = "auto",
    vocab: Container[str] | None = None,
) -> tuple[list[str], np.ndarray]:
    """Reads word vectors from a GloVe, word2vec (text or binary) or fastText ``.vec`` file.

    A word that appears twice keeps its first vector. Lines of GloVe files whose word
    contains spaces (glove.840B has a few, such as ``". . ."``) are read with the spaces.

    Shapes:
        vectors: (N, D) float32, row ``i`` is the vector of ``words[i]``.

    Args:
        path: The vectors file (``.gz`` is decompressed on the fly), or the name of vectors a
            package ships (``glove-6b-50d``, :mod:`rnnkit.data.named_vectors`).
        format: ``"auto"`` picks the format with :func:`detect_format`.
        vocab: Keep only words ``in vocab`` (e.g. a set of a vocabulary's tokens, with their
            lower-cased forms when :func:`embedding_matrix` should fall back to them). The
            values of the other lines are not parsed, which also makes loading faster.

    Returns:
        ``(words, vectors)`` in file order.

    Raises:
        DataError: No such file; a malformed header; a line with a non-number, a non-finite
            value or an empty word; a line whose number of values differs from the dimension
            (expected vs got, with the line number); a truncated binary file; a header count
            that differs from the number of vectors; a file with no vectors.
        ConfigError: ``format`` is not one of the names above.

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "glove.txt"
        >>> _ = path.write_text("the 0.1 0.2\\ncat 0.3 0.4\\nthe 9 9\\n")
        >>> words, vectors = load_vectors(path)
        >>> words, np.allclose(vectors, [[0.1, 0.2], [0.3, 0.4]])
        (['the', 'cat'], True)
        >>> load_vectors(path, vocab={"cat"})[0]
        ['cat']
    """
    validate_choice("format", format, _FORMATS)
    if is_named(path):  # vectors a package ships, by name (glove-6b-50d)
        return load_named_vectors(str(path), vocab=vocab)
    if not os.path.lexists(path) and "/" not in str(path) and "." not in str(path):
        # A bare name that is no file here: most likely a misspelt packaged set.
        known = ", ".join(NAMED_VECTORS)
        message = f"no such file, and not a packaged set of vectors (known: {known})"
        raise DataError(message, file=path)
    path = _check_file(path, "a vectors file")
    fmt = detect_format(path) if format == "auto" else format
    with _open_binary(path) as stream:
        if fmt == "word2vec-binary":
            return _read_binary(stream, path, vocab)
        return _read_text(stream, path, vocab, has_header=fmt != "glove")


def detect_format(path: PathLike) -> VectorFormat:
    """Guesses a vectors file's format from its extension and its first bytes.

    ``.bin`` is word2vec binary and ``.vec`` fastText (both with any ``.gz`` after them).
    Otherwise a first line that is not ``N D`` means GloVe; after an ``N D`` header, a
    second line of a word and ``D`` numbers means word2vec text, anything else binary.

    Raises:
        DataError: No such file.

    Example:
        >>> import pathlib, tempfile
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (folder / "a.txt").write_text("2 1\\nx 0.5\\ny 1.5\\n")
        >>> _ = (folder / "b.txt").write_text("x 0.5\\ny 1.5\\n")
        >>> detect_format(folder / "a.txt"), detect_format(folder / "b.txt")
        ('word2vec-text', 'glove')
    """
    path = _check_file(path, "a vectors file")
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(".bin"):
        return "word2vec-binary"
    if name.endswith(".vec"):
        return "fasttext"
    with _open_binary(path) as stream:
        header = _HEADER.fullmatch(stream.readline())
        if header is None:
            return "glove"
        sample = stream.read(64 * 1024)
    return "word2vec-text" if _looks_like_text_line(sample, int(header[2])) else "word2vec-binary"


def _looks_like_text_line(sample: bytes, dim: int) -> bool:
    line = sample.split(b"\n", 1)[0]
    try:
        fields = line.decode("utf-8").rstrip().split(" ")
        [float(value) for value in fields[-dim:]]
    except (UnicodeDecodeError, ValueError):
        return False
    return len(fields) > dim


class _Rows:
    """A float32 (n, D) array filled row by row; it grows in place (realloc, no second copy)."""

    def __init__(self, dim: int, capacity: int) -> None:
        self.array = np.empty((max(capacity, 1), dim), dtype=np.float32)
        self.count = 0

    def append(self, values: Sequence[str] | np.ndarray) -> None:
        """Stores ``values`` as the next row; raises ValueError (count unchanged) if bad."""
        if self.count == len(self.array):
            self._resize(2 * self.count)
        self.array[self.count] = values
        if not np.isfinite(self.array[self.count]).all():
            raise ValueError("non-finite value")
        self.count += 1

    def finish(self) -> np.ndarray:
        self._resize(self.count)
        return self.array

    def _resize(self, rows: int) -> None:
        # Nothing else holds a view of the array while it is being filled, so refcheck is
        # not needed; it would also fail under a debugger or coverage tool holding a frame.
        self.array.resize((rows, self.array.shape[1]), refcheck=False)


def _read_text(
    stream: IO[bytes], path: Path, vocab: Container[str] | None, *, has_header: bool
) -> tuple[list[str], np.ndarray]:
    lines = _decoded_lines(stream, path)
    expected_count, dim, dim_source = None, None, ""
    if has_header:
        expected_count, dim = _text_header(next(lines, (1, "")), path)
        dim_source = "the header on line 1"
    words: list[str] = []
    seen: set[str] = set()
    rows: _Rows | None = None
    count = 0
    for lineno, line in lines:
        fields = line.rstrip().split(" ")
        if fields == [""]:
            continue  # a blank line holds no vector
        if dim is None:
            dim, dim_source = len(fields) - 1, f"line {lineno}"
            _check_dim(dim, path, lineno)
        if rows is None:
            capacity = expected_count if expected_count is not None and vocab is None else 1024
            rows = _Rows(dim, capacity)
        count += 1
        word, values = _split_fields(fields, dim, dim_source, path, lineno)
        if word in seen or (vocab is not None and word not in vocab):
            continue
        _append_values(rows, values, path, lineno)
        seen.add(word)
        words.append(word)
    if expected_count is not None and count != expected_count:
        message = f"the header says {expected_count} vectors, the file has {count}"
        raise DataError(message, file=path, line=1)
    if rows is None or dim is None:
        raise DataError("no vectors found (empty file?)", file=path)
    return words, rows.finish()


def _decoded_lines(stream: IO[bytes], path: Path) -> Iterator[tuple[int, str]]:
    for lineno, raw in enumerate(stream, start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            message = f"invalid UTF-8 at byte {err.start + 1} of the line: {err.reason}"
            raise DataError(message, file=path, line=lineno) from None
        yield lineno, line.removeprefix("\ufeff") if lineno == 1 else line


def _text_header(first: tuple[int, str], path: Path) -> tuple[int, int]:
    lineno, line = first
    match = _HEADER.fullmatch(line.encode("utf-8"))
    if match is None:
        message = f"expected a header 'N D' (vectors and dimension), got {line.strip()[:60]!r}"
        raise DataError(message, file=path, line=lineno)
    count, dim = int(match[1]), int(match[2])
    _check_dim(dim, path, lineno)
    return count, dim


def _check_dim(dim: int, path: Path, lineno: int) -> None:
    if dim < 1:
        raise DataError("expected a dimension of at least 1, got 0", file=path, line=lineno)


def _split_fields(
    fields: list[str], dim: int, dim_source: str, path: Path, lineno: int
) -> tuple[str, list[str]]:
    """The word and the ``dim`` value strings of one line's space-separated fields."""
    word, values = fields[0], fields[1:]
    if len(values) != dim:
        # More fields than expected is fine when the extra ones belong to the word: its last
        # field before the values is then not a number.
        if len(values) < dim or _is_number(fields[-dim - 1]):
            message = f"expected {dim} values (the dimension of {dim_source}), got {len(values)}"
            raise DataError(message, file=path, line=lineno)
        word, values = " ".join(fields[:-dim]), fields[-dim:]
    if not word:
        raise DataError(
            "expected a word before the values, got an empty word", file=path, line=lineno
        )
    return word, values


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _append_values(rows: _Rows, values: Sequence[str], path: Path, lineno: int) -> None:
    try:
        rows.append(values)
    except ValueError:
        for i, text in enumerate(values, start=1):
            if not _is_number(text) or not np.isfinite(float(text)):
                message = f"value {i}: expected a finite number, got {text[:40]!r}"
                raise DataError(message, file=path, line=lineno) from None
        raise


def _read_binary(
    stream: IO[bytes], path: Path, vocab: Container[str] | None
) -> tuple[list[str], np.ndarray]:
    count, dim = _text_header((1, stream.readline().decode("utf-8", "replace")), path)
    if count == 0:
        raise DataError("no vectors found (the header says 0)", file=path, line=1)
    rows = _Rows(dim, count if vocab is None else 1024)
    words: list[str] = []
    seen: set[str] = set()
    for entry, word, vector in _binary_entries(stream, path, count, dim):
        if word in seen or (vocab is not None and word not in vocab):
            continue
        try:
            rows.append(vector)
        except ValueError:
            message = f"vector {entry} ({word!r}): expected finite values, got NaN or infinity"
            raise DataError(message, file=path) from None
        seen.add(word)
        words.append(word)
    return words, rows.finish()


def _binary_entries(
    stream: IO[bytes], path: Path, count: int, dim: int
) -> Iterator[tuple[int, str, np.ndarray]]:
    """Yields ``(entry number, word, vector)`` for each of the ``count`` binary entries."""
    record = 4 * dim
    buffer, pos = b"", 0
    for entry in range(1, count + 1):
        while True:
            space = buffer.find(b" ", pos)
            if space != -1 and len(buffer) - space - 1 >= record:
                break
            if space == -1 and len(buffer) - pos > _MAX_WORD_BYTES:
                message = f"vector {entry}: no space after a word within {_MAX_WORD_BYTES} bytes"
                raise DataError(message + " (not a word2vec binary file?)", file=path)
            more = stream.read(_READ_SIZE)
            if not more:
                message = f"the header says {count} vectors, the file ends inside vector {entry}"
                hint = f"truncated, or the header's dimension {dim} is larger than the vectors'"
                raise DataError(f"{message} ({hint})", file=path)
            buffer, pos = buffer[pos:] + more, 0
        # word2vec's C tool ends each vector with a newline, gensim does not: accept both.
        word = _binary_word(buffer[pos:space].lstrip(b"\n"), path, entry, dim)
        vector = np.frombuffer(buffer, dtype="<f4", count=dim, offset=space + 1)
        pos = space + 1 + record
        yield entry, word, vector
    rest = buffer[pos:] + stream.read(_READ_SIZE)
    if rest.strip():
        message = f"the header says {count} vectors, but more data follows the last one"
        hint = f"or the header's dimension {dim} is smaller than the vectors'"
        raise DataError(f"{message} ({hint})", file=path, line=1)


def _binary_word(raw: bytes, path: Path, entry: int, dim: int) -> str:
    # After the first entry, a word that is empty or not text is most often the bytes of a
    # vector read with the wrong length: a header whose dimension is not the vectors'.
    hint = f" (is the header's dimension {dim} the vectors'?)" if entry > 1 else ""
    if not raw:
        raise DataError(f"vector {entry}: expected a word, got an empty one{hint}", file=path)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        message = f"vector {entry}: the word is not valid UTF-8 ({err.reason}): {raw[:40]!r}"
        raise DataError(message + hint, file=path) from None


# ---------------------------------------------------------------------------------------------
# Embedding matrix and coverage
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class CoverageReport:
    """How much of a vocabulary (and of a corpus's running tokens) has pretrained vectors.

    Attributes:
        vocab_found: Vocabulary entries that got a pretrained vector.
        vocab_total: Vocabulary entries looked up (the padding entry is not).
        token_found: Running tokens whose vocabulary entry got a vector, or None when no
            token counts were given.
        token_total: All running tokens counted, including those outside the vocabulary, or
            None.

    Example:
        >>> report = CoverageReport(vocab_found=3, vocab_total=4, token_found=90, token_total=100)
        >>> report.vocab_share, report.token_share
        (0.75, 0.9)
        >>> str(report)
        'vectors for 3 of 4 vocabulary entries (75.0%), covering 90 of 100 tokens (90.0%)'
    """

    vocab_found: int
    vocab_total: int
    token_found: int | None = None
    token_total: int | None = None

    @property
    def vocab_share(self) -> float:
        """``vocab_found / vocab_total`` (0.0 for an empty vocabulary)."""
        return self.vocab_found / self.vocab_total if self.vocab_total else 0.0

    @property
    def token_share(self) -> float | None:
        """``token_found / token_total``, or None without token counts (0.0 if none counted)."""
        if self.token_found is None or self.token_total is None:
            return None
        return self.token_found / self.token_total if self.token_total else 0.0

    def __str__(self) -> str:
        text = (
            f"vectors for {self.vocab_found} of {self.vocab_total} vocabulary entries "
            f"({self.vocab_share:.1%})"
        )
        if self.token_share is not None:
            text += (
                f", covering {self.token_found} of {self.token_total} tokens "
                f"({self.token_share:.1%})"
            )
        return text


def embedding_matrix(
    vocab_tokens: Sequence[str],
    words: Sequence[str],
    vectors: np.ndarray,
    *,
    pad_index: int | None = None,
    seed: int = 0,
    lowercase_fallback: bool = True,
    token_counts: Mapping[str, int] | None = None,
) -> tuple[np.ndarray, CoverageReport]:
    """Builds an embedding matrix for a vocabulary from loaded vectors.

    Row ``i`` is the vector of ``vocab_tokens[i]``; failing that (with
    ``lowercase_fallback``) the vector of its lower-cased form; failing that a random vector
    drawn per dimension from N(mean, std) of the loaded vectors. The padding row is zero.

    Shapes:
        vectors: (N, D), one row per entry of ``words``.
        matrix: (V, D) float32, V = ``len(vocab_tokens)``.

    Args:
        vocab_tokens: The vocabulary's tokens in id order (e.g. ``Vocabulary.tokens``).
        words: The words of ``vectors`` (from :func:`load_vectors`).
        vectors: Their vectors.
        pad_index: The id of the padding token, whose row is zeros and which the coverage
            does not count; None if there is none.
        seed: Seed of the random rows.
        lowercase_fallback: Try ``token.lower()`` when ``token`` itself has no vector.
        token_counts: Occurrences of each token in the corpus (e.g. a ``Counter`` of the
            training tokens), for the share of running tokens covered.

    Returns:
        ``(matrix, report)``.

    Raises:
        ConfigError: ``vectors`` is not 2-D, empty, not finite or not as long as ``words``;
            ``pad_index`` is out of range; a token count is negative or not an int.

    Example:
        >>> vectors = np.array([[1.0, 2.0], [3.0, 6.0]], dtype=np.float32)
        >>> matrix, report = embedding_matrix(["a", "B", "zzz"], ["a", "b"], vectors,
        ...                                   token_counts={"a": 5, "B": 3, "zzz": 1, "q": 1})
        >>> matrix[:2].tolist(), matrix.shape
        ([[1.0, 2.0], [3.0, 6.0]], (3, 2))
        >>> report
        CoverageReport(vocab_found=2, vocab_total=3, token_found=8, token_total=10)
    """
    vectors = _check_vectors(words, vectors)
    _check_pad_index(pad_index, len(vocab_tokens))
    index: dict[str, int] = {}
    for i, word in enumerate(words):
        index.setdefault(word, i)  # the first of duplicates, as load_vectors keeps
    rows = [_lookup(token, index, lowercase_fallback) for token in vocab_tokens]
    missing = [i for i, row in enumerate(rows) if row is None and i != pad_index]
    matrix = np.empty((len(vocab_tokens), vectors.shape[1]), dtype=np.float32)
    found = [(i, row) for i, row in enumerate(rows) if row is not None and i != pad_index]
    if found:
        ids, sources = zip(*found, strict=True)
        matrix[list(ids)] = vectors[list(sources)]
    # Kim (2014): unknown words drawn so that they have the same variance as the pretrained
    # ones. Matching the per-dimension mean too puts new rows where real words live: a zero
    # or N(0, 1) row would be an outlier in scale that the first layer must first unlearn.
    mean, std = _mean_std(vectors)
    matrix[missing] = np.random.default_rng(seed).normal(mean, std, (len(missing), len(mean)))
    if pad_index is not None:
        matrix[pad_index] = 0.0
    report = _coverage(vocab_tokens, rows, pad_index, token_counts)
    return matrix, report


def vectors_for_vocabulary(
    path: PathLike, vocab_tokens: Sequence[str], *, lowercase: bool
) -> tuple[list[str], np.ndarray]:
    """The vectors of a file (any format :func:`load_vectors` reads) that a vocabulary can
    use, read once and kept small.

    With ``lowercase`` (the text was lower-cased) a cased file's "Movie" is the vector of
    the vocabulary's "movie": the first casing in the file wins (these files are sorted by
    frequency, so it is the most frequent). Otherwise each token and its lower-cased form
    are looked up, as :func:`embedding_matrix` does.

    Returns:
        The words kept and their vectors (N, D).
    """
    if lowercase:
        wanted = {token.lower() for token in vocab_tokens}
        words, vectors = load_vectors(path, vocab=_LowerCaseSet(wanted))
        first: dict[str, int] = {}
        for i, word in enumerate(words):
            first.setdefault(word.lower(), i)
        return list(first), vectors[list(first.values())]
    wanted = set(vocab_tokens) | {token.lower() for token in vocab_tokens}
    return load_vectors(path, vocab=wanted)


class _LowerCaseSet:
    """Membership ignoring case: ``"Movie" in _LowerCaseSet({"movie"})``."""

    def __init__(self, lowered: set[str]) -> None:
        self.lowered = lowered

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and word.lower() in self.lowered


def _lookup(token: str, index: Mapping[str, int], lowercase_fallback: bool) -> int | None:
    row = index.get(token)
    if row is None and lowercase_fallback:
        row = index.get(token.lower())
    return row


def _check_vectors(words: Sequence[str], vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors)
    if vectors.ndim != 2:
        raise ConfigError(f"expected a 2-D array (N, D), got shape {vectors.shape}", key="vectors")
    if len(vectors) != len(words):
        message = f"expected one row per word ({len(words)}), got {len(vectors)} rows"
        raise ConfigError(message, key="vectors")
    if len(vectors) == 0 or vectors.shape[1] == 0:
        message = f"expected at least one vector of dimension >= 1, got shape {vectors.shape}"
        raise ConfigError(message, key="vectors")
    return vectors


def _check_pad_index(pad_index: int | None, size: int) -> None:
    if pad_index is None:
        return
    if isinstance(pad_index, bool) or not isinstance(pad_index, int | np.integer):
        raise ConfigError(f"expected int or None, got {type(pad_index).__name__}", key="pad_index")
    if not 0 <= pad_index < size:
        message = f"expected an index in [0, {size}) of the vocabulary, got {pad_index}"
        raise ConfigError(message, key="pad_index")


def _mean_std(vectors: np.ndarray, block: int = 65_536) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension mean and std in float64, by row blocks (no full-size temporary)."""
    total = np.zeros(vectors.shape[1])
    for start in range(0, len(vectors), block):
        total += vectors[start : start + block].sum(axis=0, dtype=np.float64)
    mean = total / len(vectors)
    squares = np.zeros(vectors.shape[1])
    for start in range(0, len(vectors), block):
        squares += ((vectors[start : start + block] - mean) ** 2).sum(axis=0)
    std = np.sqrt(squares / len(vectors))
    if not (np.isfinite(mean).all() and np.isfinite(std).all()):
        raise ConfigError("expected finite values, got NaN or infinity", key="vectors")
    return mean, std


def _coverage(
    vocab_tokens: Sequence[str],
    rows: Sequence[int | None],
    pad_index: int | None,
    token_counts: Mapping[str, int] | None,
) -> CoverageReport:
    looked_up = [i for i in range(len(vocab_tokens)) if i != pad_index]
    found_ids = [i for i in looked_up if rows[i] is not None]
    if token_counts is None:
        return CoverageReport(vocab_found=len(found_ids), vocab_total=len(looked_up))
    for token, n in token_counts.items():
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
            message = f"expected a count >= 0, got {n!r} for token {token!r}"
            raise ConfigError(message, key="token_counts")
    found_tokens = {vocab_tokens[i] for i in found_ids}
    return CoverageReport(
        vocab_found=len(found_ids),
        vocab_total=len(looked_up),
        token_found=int(sum(token_counts.get(token, 0) for token in found_tokens)),
        token_total=int(sum(token_counts.values())),
    )


# ---------------------------------------------------------------------------------------------
# Saving
# ---------------------------------------------------------------------------------------------


def save_vectors(
    path: PathLike,
    words: Sequence[str],
    vectors: np.ndarray,
    *,
    format: Literal["word2vec-text", "glove"] = "word2vec-text",
) -> Path:
    """Writes word vectors as a text file, atomically (temp file, fsync, rename).

    Values are written with 9 significant digits, which float32 needs to read back exactly.

    Args:
        path: The file to create or replace; its directory must exist.
        words: One word per row; non-empty, no whitespace, no duplicates.
        vectors: (N, D) finite numbers; written as float32.
        format: ``"word2vec-text"`` (an ``N D`` header; what fastText ``.vec`` files use too)
            or ``"glove"`` (no header).

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        ConfigError: ``format`` is unknown; a word is empty, has whitespace or is repeated;
            ``vectors`` is not (len(words), D) with D >= 1 or has non-finite values.

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "v.txt"
        >>> print(save_vectors(path, ["a"], np.array([[0.5, -2.0]])).read_text(), end="")
        1 2
        a 0.5 -2
    """
    validate_choice("format", format, _SAVE_FORMATS)
    _check_words(words)
    array = _check_vectors(words, vectors).astype(np.float32, copy=False)
    if not np.isfinite(array).all():
        raise ConfigError("expected finite values, got NaN or infinity", key="vectors")
    header = [f"{len(words)} {array.shape[1]}\n"] if format == "word2vec-text" else []
    row_format = " ".join(["%.9g"] * array.shape[1])
    lines = (
        f"{word} {row_format % tuple(row.tolist())}\n"
        for word, row in zip(words, array, strict=True)
    )
    return atomic_write_lines(Path(path), [*header, *lines] if header else lines)


def _check_words(words: Sequence[str]) -> None:
    seen: set[str] = set()
    for i, word in enumerate(words):
        if not isinstance(word, str) or not word or any(c.isspace() for c in word):
            message = f"expected a non-empty string without whitespace, got {word!r}"
            raise ConfigError(message, key=f"words[{i}]")
        if word in seen:
            raise ConfigError(f"duplicate word {word!r}", key=f"words[{i}]")
        seen.add(word)
