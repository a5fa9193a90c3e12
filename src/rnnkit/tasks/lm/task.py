"""A trained language model: score, rank, predict the next token, sample."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple

import torch

from rnnkit.config import ConfigError, validate_positive
from rnnkit.data import Vocabulary
from rnnkit.data.corpus import batchify, tokenize
from rnnkit.data.subword import SubwordTokenizer
from rnnkit.models import LanguageModel, decoding
from rnnkit.tasks.lm.batches import cross_entropy_sum, stream_batches
from rnnkit.tasks.lm.config import LMConfig
from rnnkit.tasks.lm.ids import stream_ids
from rnnkit.tasks.lm.tokens import EOS, Level, check_tokenizer, open_line, text_tokens, word_text
from rnnkit.training.rundir import RunDir

__all__ = ["LanguageModelTask", "ScoredText"]


class ScoredText(NamedTuple):
    """A text's probability under the model.

    Attributes:
        text: The text as given.
        tokens: Its tokens (with ``<eos>`` closing a word- or subword-level sentence).
        probabilities: ``p(token_t | tokens_<t)`` for each token.
        logprob: Total natural-log probability.
        perplexity: ``exp(-logprob / len(tokens))``.
    """

    text: str
    tokens: list[str]
    probabilities: list[float]
    logprob: float
    perplexity: float


class LanguageModelTask:
    """A trained language model with its vocabulary: score, rank, predict, sample.

    Use :func:`train` to make one and :func:`rnnkit.load` to get one back from a run.

    Args:
        config: The run's config.
        vocab: Token <-> id map of the model's inputs and outputs.
        model: The trained model.
        run: The run directory it came from, or None.
        tokenizer: The subword model of a ``subword``-level run (None for other levels).

    Raises:
        ConfigError: ``tokenizer`` is missing for the subword level or given for another.
    """

    def __init__(
        self,
        config: LMConfig,
        vocab: Vocabulary,
        model: LanguageModel,
        run: RunDir | None,
        *,
        tokenizer: SubwordTokenizer | None = None,
    ) -> None:
        check_tokenizer(config.data.level, tokenizer)
        self.config, self.vocab, self.model, self.run = config, vocab, model.eval(), run
        self.tokenizer = tokenizer

    @property
    def level(self) -> Level:
        return self.config.data.level

    def _start_id(self) -> int:
        return self.vocab.id("\n") if self.level == "char" else self.vocab.eos_id

    @property
    def backward(self) -> bool:
        """Whether the model reads each line from its end (trained with ``reverse``)."""
        return self.config.data.reverse

    def tokenize(self, text: str) -> list[str]:
        """The tokens of ``text`` at the model's level, in the order the model reads them
        (see :func:`text_tokens`)."""
        return text_tokens(text, self.level, self.tokenizer, reverse=self.backward)

    def encode(self, text: str) -> list[int]:
        return self.vocab.encode(self.tokenize(text))

    def evaluate(self, text: str, *, batch_size: int | None = None) -> dict[str, float]:
        """Cross-entropy (nats/token), perplexity and bits per token on ``text``.

        ``tokens`` is the number of tokens scored (the first of each of the parallel streams
        and the few that do not fill the last stream have no score). A subword-level model
        also gets a word-level perplexity, comparable with a word-level model's: ``words``
        is the text's whitespace words plus one ``<eos>`` per line, and ``word_ppl`` is
        ``exp(loss * pieces / words)``, the text's estimated total NLL (mean per piece times
        all its pieces, ``<eos>`` included) per word.
        """
        ids = stream_ids(text, self.level, self.vocab, self.tokenizer, reverse=self.backward)
        rows = batch_size or self.config.data.eval_batch_size
        rows = max(1, min(rows, (len(ids) - 1) // 2))
        k = self.config.train.bptt
        with torch.no_grad():
            total, count = cross_entropy_sum(self.model, stream_batches(batchify(ids, rows), k, k))
        loss = total / count
        metrics = {
            "loss": loss,
            "ppl": math.exp(min(loss, 700.0)),
            "bpt": loss / math.log(2),
            "tokens": count,
        }
        if self.level == "subword":
            words = len(tokenize(text, "word", eos=EOS))
            metrics["words"] = words
            metrics["word_ppl"] = math.exp(min(loss * len(ids) / words, 700.0))
        return metrics

    def score(self, texts: Sequence[str]) -> list[ScoredText]:
        """Each text's probability, best first (the material's "pear salad" vs "pair salad").

        Raises:
            ConfigError: A text has no tokens (empty or blank).
        """
        _check_scorable(texts)
        return sorted((self._scored(text) for text in texts), key=lambda r: -r.logprob)

    @torch.no_grad()
    def _scored(self, text: str) -> ScoredText:
        tokens = self.tokenize(text.strip())
        ids = torch.tensor([[self._start_id(), *self.vocab.encode(tokens)]])
        logits, _ = self.model(ids[:, :-1])
        logp = torch.log_softmax(logits[0].float(), dim=-1)
        token_logp = logp.gather(1, ids[0, 1:, None])[:, 0]
        total = float(token_logp.sum())
        return ScoredText(
            text,
            tokens,
            token_logp.exp().tolist(),
            total,
            math.exp(-total / max(len(tokens), 1)),
        )

    @torch.no_grad()
    def next_tokens(self, prefix: str, top: int = 5) -> list[tuple[str, float]]:
        """The ``top`` most likely next tokens after ``prefix``, with probabilities; for a
        backward model, the tokens most likely *before* ``prefix`` (the end of a line).

        Subword tokens are pieces: ``"▁the"`` starts a word, ``"re"`` continues one.

        Raises:
            ConfigError: A backward model's ``prefix`` spans more than one line.
        """
        validate_positive("top", top)
        logits, _ = self._read(self._prompt_tokens(prefix))
        probs = torch.softmax(logits[0].float(), dim=-1)
        values, ids = probs.topk(min(top, len(self.vocab)))
        return [(self.vocab[int(i)], float(p)) for p, i in zip(values, ids, strict=True)]

    def _prompt_tokens(self, prompt: str) -> list[str]:
        if self.backward:
            return self._line_end_tokens(prompt)
        tokens = self.tokenize(prompt)
        if self.level != "char" and tokens and tokens[-1] == EOS and not prompt.endswith("\n"):
            tokens = tokens[:-1]  # a prompt is an unfinished line
        return tokens

    def _line_end_tokens(self, text: str) -> list[str]:
        """A backward model's prompt: the end of one line, read from its last token."""
        if "\n" in text:
            raise ConfigError(
                "a backward model (trained with --reverse) predicts what comes before the "
                f"end of one line; the prompt {text!r} has a line break",
                key="prompt",
            )
        tokens = text_tokens(text, self.level, self.tokenizer)
        if tokens and tokens[-1] == EOS:
            tokens = tokens[:-1]
        return tokens[::-1]

    def _read(self, tokens: list[str]) -> tuple[torch.Tensor, Any]:
        ids = torch.tensor([[self._start_id(), *self.vocab.encode(tokens)]])
        logits, state = self.model(ids)
        return logits[:, -1], state

    @torch.no_grad()
    def sample(
        self,
        prompt: str = "",
        *,
        length: int = 200,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        greedy: bool = False,
        beam: int | None = None,
        no_unk: bool = False,
        seed: int | None = None,
    ) -> Iterator[str]:
        """Generated text, piece by piece (a character, a word, or what a subword adds),
        after ``prompt``.

        Stops after ``length`` tokens, or at ``<eos>`` for word- and subword-level models.
        ``"".join`` of the pieces is the text: words come with their spaces. The prompt is
        read (and checked) at the call; the pieces come as they are generated.

        Raises:
            ConfigError: The model is a backward one (it scores and ranks text, and predicts
                the token before a line's end, but does not write text).
        """
        if self.backward:
            raise ConfigError(
                "this model was trained with --reverse (it reads lines backwards); sample "
                "from a forward model",
                key="reverse",
            )
        validate_positive("length", length)
        tokens = self._prompt_tokens(prompt)
        logits, state = self._read(tokens)
        banned = [self.vocab.unk_id] if no_unk and self.vocab.unk_id is not None else []
        eos = None if self.level == "char" else self.vocab.eos_id
        line = open_line(tokens)
        if beam is not None:
            best = decoding.beam_search(
                self.model.step,
                state,
                logits,
                beam=beam,
                max_new=length,
                eos_id=eos,
                banned=banned,
                reorder=self.model.reorder_state,
            )[0]
            return self._text(best.tokens, line)
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        stream = decoding.generate(
            self.model.step,
            state,
            logits,
            max_new=length,
            eos_id=eos,
            generator=generator,
            greedy=greedy,
            temperature=temperature,
            top_k=top_k,
            top_p=top_p,
            banned=banned,
        )
        return self._text((int(token[0]) for token in stream), line)

    def predict(self, inputs: Sequence[Any], *, mode: str = "score", **options: Any) -> list:
        """The predictor interface: one JSON-able answer per input text, in input order.

        Modes and their options:

        - ``score``: ``{"text", "tokens", "probabilities", "logprob", "perplexity"}``
          (:meth:`score`, not ranked).
        - ``next`` (``top``): ``{"prefix", "next": [{"token", "probability"}, ...]}``
          (:meth:`next_tokens`).
        - ``sample`` (``length``, ``temperature``, ``top_k``, ``top_p``, ``greedy``,
          ``beam``, ``no_unk``, ``seed``): ``{"prompt", "text"}`` (:meth:`sample`).

        Raises:
            ConfigError: An input is not a string, or an unknown mode or option.
        """
        texts = _strings(inputs)
        if mode == "score":
            _check_options(mode, options, ())
            _check_scorable(texts)
            return [self._scored(text)._asdict() for text in texts]
        if mode == "next":
            _check_options(mode, options, ("top",))
            return [
                {
                    "prefix": text,
                    "next": [
                        {"token": token, "probability": p}
                        for token, p in self.next_tokens(text, **options)
                    ],
                }
                for text in texts
            ]
        if mode == "sample":
            _check_options(mode, options, _SAMPLE_OPTIONS)
            return [
                {"prompt": text, "text": "".join(self.sample(text, **options))} for text in texts
            ]
        raise ConfigError(f"expected one of 'score', 'next', 'sample', got {mode!r}", key="mode")

    def _text(self, ids: Iterable[int], line: list[str]) -> Iterator[str]:
        """The text of generated ``ids`` as they come, after the open ``line`` of the prompt."""
        tokens = (self.vocab[token_id] for token_id in ids)
        if self.level == "char":
            yield from tokens
        elif self.tokenizer is not None:
            yield from self.tokenizer.stream(tokens, line=line)
        else:
            yield from word_text(tokens, first=not line)


def _strings(inputs: Sequence[Any]) -> list[str]:
    for i, text in enumerate(inputs):
        if not isinstance(text, str):
            raise ConfigError(f"expected a string, got {type(text).__name__}", key=f"[{i}]")
    return list(inputs)


_SAMPLE_OPTIONS = ("length", "temperature", "top_k", "top_p", "greedy", "beam", "no_unk", "seed")


def _check_options(mode: str, options: dict[str, Any], allowed: Sequence[str]) -> None:
    unknown = [name for name in options if name not in allowed]
    if unknown:
        takes = ", ".join(allowed) if allowed else "none"
        raise ConfigError(
            f"mode {mode!r} takes the options {takes}; got {', '.join(unknown)}", key="options"
        )


def _check_scorable(texts: Sequence[str]) -> None:
    """A text to score must have a token (an empty or blank one has no probability)."""
    for number, text in enumerate(texts, 1):
        if not isinstance(text, str) or not text.strip():
            shown = "empty" if text == "" else f"blank ({text!r})"
            raise ConfigError(f"text {number} is {shown}: nothing to score", key="texts")
