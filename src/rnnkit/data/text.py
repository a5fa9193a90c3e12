"""Text preprocessing: a configurable pipeline from raw text to word tokens.

A :class:`TextConfig` says which stages run; :class:`TextPipeline` runs them, in this order
(each one only when its option asks for it):

1. ``html``: drop HTML tags (IMDB's ``<br />``) and decode entities (``&amp;``, ``&#39;``);
2. ``normalize``: Unicode NFKC (``"ﬁ"`` -> ``"fi"``, full-width ``"１２"`` -> ``"12"``);
3. ``lowercase``;
4. ``urls``: web addresses become ``<url>``, or are removed;
5. ``tokenize``: a Penn Treebank style word tokenizer (NLTK's, with no data download):
   punctuation split off, contractions split (``"don't"`` -> ``"do", "n't"``), hyphenated
   words, numbers, ellipses, emoticons and the placeholders kept whole;
6. ``numbers``: number tokens become ``<num>``;
7. ``stopwords``: English stop words removed (negations such as ``"not"`` and ``"n't"`` are
   kept by default, because they carry sentiment);
8. ``stem`` (Porter or Snowball, from NLTK) or ``lemmatize`` (simplemma, which ships its
   data in its wheel).

HTML is stripped before NFKC so that an entity such as ``&#xFB01;`` is decoded first and then
normalized like the literal character. The config is a frozen dataclass with a strict JSON
round trip (:func:`rnnkit.config.to_json`), so a run directory can save it and prediction can
apply exactly the same steps. Nothing here downloads anything at run time.

Example:
    >>> pipeline = TextPipeline(TextConfig())
    >>> pipeline("I didn't like it.<br /><br />See https://example.com &amp; don't go!")
    ['i', 'did', "n't", 'like', 'it', '.', 'see', '<url>', '&', 'do', "n't", 'go', '!']
"""

from __future__ import annotations

import dataclasses
import functools
import html
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal

from rnnkit.config import ConfigError, check_field_types
from rnnkit.data.errors import DataError

__all__ = ["NEGATIONS", "NUM_TOKEN", "URL_TOKEN", "TextConfig", "TextPipeline"]

URL_TOKEN = "<url>"
NUM_TOKEN = "<num>"
_PLACEHOLDERS = frozenset({URL_TOKEN, NUM_TOKEN})

# Stop-word list entries that negate, plus the Treebank negation token. Removing them turns
# "not good" into "good": the opposite sentiment. Forms like "didn" and "cant" are in the list
# because other tokenizers leave them when "didn't"/"can't" is split or typed without "'".
NEGATIONS = frozenset(
    {
        "n't", "not", "no", "nor", "never", "neither", "nobody", "none", "noone", "nothing",
        "nowhere", "cannot", "cant", "couldnt", "hasnt", "didn", "doesn", "don", "without",
    }
)  # fmt: skip

# A tag starts with a letter (or "/" and a letter), so "a < b" and "<3" are left alone.
_HTML_TAG = re.compile(r"<!--.*?-->|</?[A-Za-z][^<>]*>", re.DOTALL)
# Scheme or "www." start; the last character may not be sentence punctuation, so the full
# stop of "see http://x.org." stays a token of its own.
_URL = r"(?:https?://|ftp://|www\.)[^\s<>\"]*[^\s<>\"'.,;:!?)\]}]"
_URL_RE = re.compile(_URL, re.IGNORECASE)
_NUMBER = re.compile(r"[+-]?\d+(?:[.,:/]\d+)*")
# Periods that do not end a sentence; the sentence splitter runs untrained (no punkt data),
# so without this list "mr. smith" would be split after "mr.".
_ABBREVIATIONS = frozenset(
    {
        "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "e.g", "i.e", "u.s",
        "u.k", "inc", "ltd", "co", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
        "sept", "oct", "nov", "dec",
    }
)  # fmt: skip
# The Treebank tokenizer writes opening/closing double quotes as `` and ''. One token for both
# keeps the vocabulary small and matches what a reader of the text sees.
_QUOTES = {"``": '"', "''": '"'}


@dataclasses.dataclass(frozen=True, kw_only=True)
class TextConfig:
    """Which preprocessing steps a :class:`TextPipeline` runs (JSON round trip, frozen).

    Attributes:
        normalize: Apply Unicode NFKC normalization (compatibility characters such as
            ligatures and full-width forms become their plain form).
        lowercase: Lower-case the text.
        strip_html: Replace HTML tags with spaces and decode HTML entities.
        urls: ``"keep"`` (one token each), ``"token"`` (each becomes ``<url>``) or
            ``"remove"``.
        numbers: ``"keep"`` or ``"token"`` (each number token becomes ``<num>``).
        tokenizer: ``"word"``: Penn Treebank style word tokenization (NLTK).
        stopwords: Remove English stop words (the Glasgow IR list as shipped in gensim, 337
            words; compared case-insensitively).
        keep_negations: With ``stopwords``, keep :data:`NEGATIONS` (``"not"``, ``"no"``,
            ``"never"``, ``"n't"``, ...). Only meaningful with ``stopwords=True``; must stay
            True otherwise.
        stem: ``"none"``, ``"porter"`` or ``"snowball"`` (English Snowball, "Porter2").
            Stemmers lower-case their output.
        lemmatize: Replace each word by its dictionary form (simplemma, English).

    Raises:
        ConfigError: A field has the wrong type or value, ``stem`` and ``lemmatize`` are both
            set, or ``keep_negations=False`` without ``stopwords``.

    Example:
        >>> from rnnkit.config import from_json, to_json
        >>> cfg = TextConfig(stopwords=True, stem="porter")
        >>> from_json(TextConfig, to_json(cfg)) == cfg
        True
        >>> try:
        ...     TextConfig(stem="porter", lemmatize=True)
        ... except ConfigError as err:
        ...     print(err)
        lemmatize: cannot be combined with stem='porter'; choose one of stemming and lemmatization
    """

    normalize: bool = True
    lowercase: bool = True
    strip_html: bool = True
    urls: Literal["keep", "token", "remove"] = "token"
    numbers: Literal["keep", "token"] = "keep"
    tokenizer: Literal["word"] = "word"
    stopwords: bool = False
    keep_negations: bool = True
    stem: Literal["none", "porter", "snowball"] = "none"
    lemmatize: bool = False

    def __post_init__(self) -> None:
        check_field_types(self)
        if self.lemmatize and self.stem != "none":
            message = (
                f"cannot be combined with stem={self.stem!r}; "
                "choose one of stemming and lemmatization"
            )
            raise ConfigError(message, key="lemmatize")
        if not self.keep_negations and not self.stopwords:
            # No accepted-but-ignored settings: this one only acts on stop-word removal.
            raise ConfigError(
                "applies only with stopwords=True; leave it True", key="keep_negations"
            )


TextStage = Callable[[str], str]
TokenStage = Callable[[list[str]], list[str]]


class TextPipeline:
    """Turns a text into tokens as its :class:`TextConfig` says.

    The tokenizer and the optional stemmer, lemmatizer and stop-word list are loaded when the
    pipeline is built (NLTK takes about a second to import), not when this module is.
    Stemming and lemmatization are cached per word, since a corpus repeats its words.

    Args:
        config: The steps to run; None means ``TextConfig()``.

    Raises:
        ConfigError: ``config`` is not a :class:`TextConfig`.

    Example:
        >>> pipeline = TextPipeline(TextConfig(stopwords=True, lemmatize=True))
        >>> pipeline("The children weren't running to 3 shops!")
        ['child', 'not', 'run', '3', 'shop', '!']
        >>> [name for name, _ in pipeline.steps("Hi")]
        ['html', 'normalize', 'lowercase', 'urls', 'tokenize', 'stopwords', 'lemmatize']
    """

    def __init__(self, config: TextConfig | None = None) -> None:
        config = TextConfig() if config is None else config
        if not isinstance(config, TextConfig):
            raise ConfigError(f"expected a TextConfig, got {type(config).__name__}", key="config")
        self._config = config
        self._text_stages = _text_stages(config)
        self._tokenize = _make_tokenizer(config)
        self._token_stages = _token_stages(config)

    @property
    def config(self) -> TextConfig:
        """The config this pipeline runs."""
        return self._config

    def __call__(self, text: str) -> list[str]:
        """Returns the tokens of ``text`` after every configured step.

        Raises:
            ConfigError: ``text`` is not a string.
        """
        _check_text(text)
        for _, stage in self._text_stages:
            text = stage(text)
        tokens = self._tokenize(text)
        for _, token_stage in self._token_stages:
            tokens = token_stage(tokens)
        return tokens

    def steps(self, text: str) -> list[tuple[str, Any]]:
        """Runs the pipeline on ``text`` and returns each stage's name and output, in order.

        Text stages give a string, ``tokenize`` and later stages a list of tokens; the last
        output equals ``self(text)``. Stages switched off in the config are left out.

        Raises:
            ConfigError: ``text`` is not a string.

        Example:
            >>> for name, output in TextPipeline(TextConfig(numbers="token")).steps("Ｉt's ８!"):
            ...     print(f"{name:9} {output!r}")
            html      "Ｉt's ８!"
            normalize "It's 8!"
            lowercase "it's 8!"
            urls      "it's 8!"
            tokenize  ['it', "'s", '8', '!']
            numbers   ['it', "'s", '<num>', '!']
        """
        _check_text(text)
        result: list[tuple[str, Any]] = []
        for name, stage in self._text_stages:
            text = stage(text)
            result.append((name, text))
        tokens = self._tokenize(text)
        result.append(("tokenize", tokens))
        for name, token_stage in self._token_stages:
            tokens = token_stage(tokens)
            result.append((name, tokens))
        return result

    def __reduce__(self) -> tuple[type[TextPipeline], tuple[TextConfig]]:
        # Rebuilt from the config: the NLTK and cache objects need not be picklable
        # (DataLoader workers started with "spawn" pickle their dataset).
        return (TextPipeline, (self._config,))

    def __repr__(self) -> str:
        return f"TextPipeline({self._config!r})"


def _check_text(text: Any) -> None:
    if not isinstance(text, str):
        raise ConfigError(f"expected str, got {type(text).__name__}", key="text")


# ---------------------------------------------------------------------------------------------
# Text stages: str -> str
# ---------------------------------------------------------------------------------------------


def _text_stages(config: TextConfig) -> list[tuple[str, TextStage]]:
    stages: list[tuple[str, TextStage]] = []
    if config.strip_html:
        stages.append(("html", _strip_html))
    if config.normalize:
        stages.append(("normalize", _nfkc))
    if config.lowercase:
        stages.append(("lowercase", str.lower))
    if config.urls != "keep":
        stages.append(("urls", functools.partial(_replace_urls, mode=config.urls)))
    return stages


def _strip_html(text: str) -> str:
    # Tags first, then entities: "&lt;b&gt;" is text that shows "<b>", not a tag.
    return html.unescape(_HTML_TAG.sub(" ", text))


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _replace_urls(text: str, *, mode: str) -> str:
    # Spaces around the placeholder keep "see:<url>" from gluing it to a neighbour.
    replacement = f" {URL_TOKEN} " if mode == "token" else " "
    return _URL_RE.sub(replacement, text)


# ---------------------------------------------------------------------------------------------
# Tokenizer: str -> list[str]
# ---------------------------------------------------------------------------------------------


def _make_tokenizer(config: TextConfig) -> Callable[[str], list[str]]:
    # Imported here: NLTK takes about a second to import, and only pipelines need it.
    from nltk.tokenize.casual import EMOTICONS
    from nltk.tokenize.destructive import NLTKWordTokenizer
    from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

    params = PunktParameters()
    params.abbrev_types = set(_ABBREVIATIONS)
    sentences = PunktSentenceTokenizer(params)
    words = NLTKWordTokenizer()
    # Spans the Treebank rules would cut apart: placeholders, emoticons (only standing alone,
    # so the "d:" of "said:" or the "8)" of "(1998)" is not one) and, when kept, URLs.
    kept = [re.escape(URL_TOKEN), re.escape(NUM_TOKEN), rf"(?<!\S)(?x:{EMOTICONS})(?!\S)"]
    if config.urls == "keep":
        kept.append(_URL)
    protected = re.compile("|".join(kept), re.IGNORECASE)
    return functools.partial(
        _word_tokenize, sentences=sentences.tokenize, words=words.tokenize, protected=protected
    )


def _word_tokenize(
    text: str,
    *,
    sentences: Callable[[str], list[str]],
    words: Callable[[str], list[str]],
    protected: re.Pattern[str],
) -> list[str]:
    # The Treebank tokenizer expects one sentence: it splits off only a final period, so
    # "bad. i left" would keep "bad." whole. Hence sentences first (untrained Punkt).
    tokens: list[str] = []
    for sentence in _sentences(text, sentences):
        start = 0
        for match in protected.finditer(sentence):
            tokens.extend(_nltk_call(words, sentence[start : match.start()]))
            tokens.append(match.group())
            start = match.end()
        tokens.extend(_nltk_call(words, sentence[start:]))
    return [_QUOTES.get(token, token) for token in tokens]


# NLTK runs each regular expression under a 5-second wall-clock limit (nltk.redos), so one
# huge line (a whole book without a newline) would end in a TimeoutError: sentences are
# found a block at a time, each block cut at whitespace.
_BLOCK_CHARS = 100_000


def _sentences(text: str, split: Callable[[str], list[str]]) -> Iterator[str]:
    """``split``'s sentences of ``text``, found a block at a time. The last sentence of a
    block may go on in the next, so it is read again with it; only a sentence longer than
    a block is cut in two."""
    carry = ""
    for block in _blocks(text, _BLOCK_CHARS):
        found = _nltk_call(split, f"{carry} {block}" if carry else block)
        carry = found.pop() if found and len(found[-1]) <= _BLOCK_CHARS else ""
        yield from found
    if carry:
        yield carry


def _blocks(text: str, size: int) -> list[str]:
    """``text`` in pieces of at most ``size`` characters, each cut at its last whitespace
    (or at ``size`` where a piece has none); joined they give ``text`` back.

    Example:
        >>> _blocks("ab cd ef", 5)
        ['ab ', 'cd ef']
    """
    pieces, start = [], 0
    while len(text) - start > size:
        window = text[start : start + size]
        cut = max(window.rfind(c) for c in " \n\t\r") + 1 or size
        pieces.append(text[start : start + cut])
        start += cut
    pieces.append(text[start:])
    return pieces


def _nltk_call(tokenize: Callable[[str], list[str]], text: str) -> list[str]:
    try:
        return tokenize(text)
    except TimeoutError:
        # Blocks are small, so only a pathological text gets here (or a machine so loaded
        # that 5 seconds pass in one regular expression).
        raise DataError(
            f"the tokenizer gave up on a text of {len(text):,} characters starting "
            f"{text[:40]!r} (NLTK's 5-second limit per regular expression)"
        ) from None


# ---------------------------------------------------------------------------------------------
# Token stages: list[str] -> list[str]
# ---------------------------------------------------------------------------------------------


def _token_stages(config: TextConfig) -> list[tuple[str, TokenStage]]:
    stages: list[tuple[str, TokenStage]] = []
    if config.numbers == "token":
        stages.append(("numbers", _replace_numbers))
    if config.stopwords:
        stop = _stopwords(keep_negations=config.keep_negations)
        stages.append(("stopwords", functools.partial(_remove_stopwords, stop=stop)))
    if config.stem != "none":
        stages.append(("stem", _per_word(_stemmer(config.stem))))
    if config.lemmatize:
        stages.append(("lemmatize", _per_word(_lemmatizer())))
    return stages


def _replace_numbers(tokens: list[str]) -> list[str]:
    return [NUM_TOKEN if _NUMBER.fullmatch(token) else token for token in tokens]


def _stopwords(*, keep_negations: bool) -> frozenset[str]:
    # gensim ships the list in its wheel (NLTK's own list would need a data download), and
    # gensim is a dependency anyway, for training word2vec.
    from gensim.parsing.preprocessing import STOPWORDS

    return frozenset(STOPWORDS - NEGATIONS) if keep_negations else frozenset(STOPWORDS)


def _remove_stopwords(tokens: list[str], *, stop: frozenset[str]) -> list[str]:
    return [token for token in tokens if token.lower() not in stop]


def _stemmer(kind: str) -> Callable[[str], str]:
    if kind == "porter":
        from nltk.stem.porter import PorterStemmer

        return PorterStemmer().stem
    from nltk.stem.snowball import SnowballStemmer

    return SnowballStemmer("english").stem


def _lemmatizer() -> Callable[[str], str]:
    import simplemma

    return functools.partial(simplemma.lemmatize, lang="en")


def _per_word(transform: Callable[[str], str]) -> TokenStage:
    """A token stage applying ``transform`` to each word, leaving placeholders alone."""
    # Bounded cache: a corpus's vocabulary is small next to its length, and a stemmer costs
    # microseconds per call, which adds up to minutes over IMDB.
    cached = functools.lru_cache(maxsize=1 << 17)(transform)

    def stage(tokens: Sequence[str]) -> list[str]:
        return [token if token in _PLACEHOLDERS else cached(token) for token in tokens]

    return stage
