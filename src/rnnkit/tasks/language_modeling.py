"""Language modeling and text generation: ``rnnkit lm train|eval|score|next|sample``.

Config -> corpus -> vocabulary -> contiguous streams -> :class:`LanguageModel` -> ``fit``
with truncated BPTT (the state carried across windows) -> a run directory. A trained run
loads back as a :class:`LanguageModelTask`, which scores text, ranks alternatives, predicts
the next token and samples.

Three levels of tokens: ``char``, ``word`` (whitespace words) and ``subword`` (pieces of a
sentencepiece model trained on the training text, :mod:`rnnkit.data.subword`; the run keeps
it as ``tokenizer.model`` next to ``vocab.json``). Word and subword lines end with ``<eos>``.

Probabilities are conditioned on a start context: the ``<eos>`` token for word- and
subword-level models (every line of the corpus ended with one, so it marks "a sentence begins
here") and a newline for character-level models.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, NamedTuple

import torch

from rnnkit.config import (
    ConfigError,
    check_field_types,
    from_dict,
    to_dict,
    validate_fraction,
    validate_positive,
)
from rnnkit.data import Vocabulary
from rnnkit.data.corpus import LMCorpus, batchify, load_lm_corpus, tokenize
from rnnkit.data.subword import ModelType, SubwordTokenizer
from rnnkit.models import LanguageModel, LMModelConfig, decoding
from rnnkit.tasks import resume
from rnnkit.tasks.presets import preset_dict
from rnnkit.training.config import TrainConfig
from rnnkit.training.distributed import init_distributed
from rnnkit.training.loop import FitResult, StepOutput, fit, resolve_device, seed_everything
from rnnkit.training.progress import Progress
from rnnkit.training.rundir import RunDir, RunDirError
from rnnkit.training.tbptt import Window, run_window, windows

__all__ = [
    "LMConfig",
    "LMDataConfig",
    "LanguageModelTask",
    "PRESETS",
    "ScoredText",
    "load",
    "text_tokens",
    "train",
]

Level = Literal["char", "word", "subword"]
EOS = "<eos>"
UNK = "<unk>"
TOKENIZER_FILE = "tokenizer.model"


@dataclasses.dataclass(frozen=True, kw_only=True)
class LMDataConfig:
    """Which text, cut into which tokens, batched how.

    Attributes:
        dataset: A registry corpus (``tinyshakespeare``, ``ptb``, ``wikitext-2``).
        data: A UTF-8 text file instead of a dataset.
        valid: Validation text file for ``data`` (default: its last ``valid_fraction``).
        test: Test text file for ``data``.
        level: ``char``, ``word`` (whitespace tokens, ``<eos>`` at every line end) or
            ``subword`` (sentencepiece pieces of the words, ``<eos>`` at every line end).
        min_freq: Words seen fewer times in training become ``<unk>`` (char and word levels).
        max_vocab: Keep at most this many tokens (specials included); None keeps all (char
            and word levels).
        subword_vocab: Pieces of the subword model trained on the training text (subword
            level only).
        subword_model: ``unigram`` or ``bpe``, the subword model (subword level only).
        batch_size: Parallel streams in training (the text is cut into this many rows).
        eval_batch_size: Parallel streams for validation and evaluation.
        valid_fraction: Share of a single text held out for validation.
        reverse: Read every line from its end to its start (``<eos>`` still closes it, the
            lines keep their order): a backward model, which predicts each token from the
            ones after it. With a forward model of the same text it makes a bidirectional
            classifier (``rnnkit classify train --init-from-backward``).
    """

    dataset: str | None = None
    data: str | None = None
    valid: str | None = None
    test: str | None = None
    level: Level = "char"
    min_freq: int = 1
    max_vocab: int | None = None
    subword_vocab: int = 8000
    subword_model: ModelType = "unigram"
    batch_size: int = 20
    eval_batch_size: int = 10
    valid_fraction: float = 0.1
    reverse: bool = False

    def __post_init__(self) -> None:
        check_field_types(self)
        for name in ("min_freq", "subword_vocab", "batch_size", "eval_batch_size"):
            validate_positive(name, getattr(self, name))
        if self.max_vocab is not None:
            validate_positive("max_vocab", self.max_vocab)
        validate_fraction("valid_fraction", self.valid_fraction)
        self._check_level_options()

    def _check_level_options(self) -> None:
        """Options of one level are errors at another (never accepted and ignored).

        A field counts as set when it differs from its default.
        """
        subword = self.level == "subword"
        others = ("min_freq", "max_vocab") if subword else ("subword_vocab", "subword_model")
        for name in others:
            if getattr(self, name) != _DATA_DEFAULTS[name]:
                flag = "--" + name.replace("_", "-")
                hint = " (its vocabulary size is --subword-vocab)" if subword else ""
                raise ConfigError(
                    f"{flag} does not apply to --level {self.level}{hint}; "
                    f"got {getattr(self, name)!r}",
                    key=name,
                )


_DATA_DEFAULTS = {f.name: f.default for f in dataclasses.fields(LMDataConfig)}


@dataclasses.dataclass(frozen=True, kw_only=True)
class LMConfig:
    """A language-modeling run: data, model and training (the run's ``config.json``).

    Attributes:
        task: Always ``"lm"`` (how :func:`rnnkit.load` knows what a run directory holds).
        data: Corpus, tokens and batching.
        model: Embedding, recurrent stack and regularisation.
        train: Optimiser, schedule, truncation (``bptt``), stopping.
    """

    task: Literal["lm"] = "lm"
    data: LMDataConfig = dataclasses.field(default_factory=LMDataConfig)
    model: LMModelConfig = dataclasses.field(default_factory=LMModelConfig)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)


def _preset(data: dict, model: dict, rnn: dict, train: dict) -> dict[str, Any]:
    return {"data": data, "model": {**model, "rnn": rnn}, "train": train}


def _zaremba(size: int, dropout: float, epochs: int, decay: float, after: int) -> dict[str, Any]:
    """Zaremba et al. (2014)'s PTB set-up: 2 LSTM layers of ``size``, SGD, clip 5, 35 steps.

    Their loss is summed over the 35 steps (and averaged over the batch); ours is the mean
    over all tokens, so its gradient is 1/35 of theirs. The same updates need lr 1 * 35 and a
    clipping threshold of 5 / 35: ``lr * clip(g_sum, 5) == 35 * clip(g_sum / 35, 5 / 35)``.
    """
    return _preset(
        {"dataset": "ptb", "level": "word", "batch_size": 20, "eval_batch_size": 10},
        {"embedding_size": size},
        {"cell": "lstm", "hidden_size": size, "num_layers": 2, "dropout": dropout},
        {
            "optimizer": "sgd",
            "lr": 35.0,
            "clip_norm": 5.0 / 35,
            "epochs": epochs,
            "schedule": "step",
            "lr_decay": decay,
            "decay_after": after,
            "bptt": 35,
        },
    )


# Published set-ups (nested dicts merged over the defaults; flags still win).
PRESETS: dict[str, dict[str, Any]] = {
    # Zaremba et al. 2014, "small" (non-regularised): 2x200 LSTM, 35 steps, batch 20, SGD lr 1,
    # clip 5, 13 epochs, halve the rate after epoch 4. Reported test perplexity 114.5.
    "ptb-small": _zaremba(size=200, dropout=0.0, epochs=13, decay=0.5, after=4),
    # Zaremba et al. 2014, "medium": 2x650 LSTM, dropout 0.5, 39 epochs, decay 1/1.2 after
    # epoch 6. Reported test perplexity 82.7.
    "ptb-medium": _zaremba(size=650, dropout=0.5, epochs=39, decay=1 / 1.2, after=6),
    # Character-level Shakespeare (char-rnn style): 2x512 LSTM with dropout, Adam.
    "shakespeare-char": _preset(
        {"dataset": "tinyshakespeare", "level": "char", "batch_size": 32, "eval_batch_size": 32},
        {"embedding_size": 128},
        {"cell": "lstm", "hidden_size": 512, "num_layers": 2, "dropout": 0.2},
        {
            "optimizer": "adam",
            "lr": 2e-3,
            "clip_norm": 5.0,
            "epochs": 20,
            "bptt": 100,
            "schedule": "plateau",
            "lr_decay": 0.5,
            "plateau_patience": 0,
        },
    ),
    # WikiText-2 on a CPU: its 33k-word vocabulary makes a full softmax cost more than the
    # LSTM (1,000 tokens/s), so the output is an adaptive softmax (Grave et al. 2017) with
    # clusters at the 2,000th and 10,000th most frequent words. 2x256 LSTM, dropout, Adam.
    "wikitext2": _preset(
        {"dataset": "wikitext-2", "level": "word", "batch_size": 32, "eval_batch_size": 10},
        {"embedding_size": 256, "embedding_dropout": 0.1, "adaptive_cutoffs": [2000, 10000]},
        {"cell": "lstm", "hidden_size": 256, "num_layers": 2, "dropout": 0.3},
        {
            "optimizer": "adam",
            "lr": 2e-3,
            "clip_norm": 0.25,
            "epochs": 40,
            "bptt": 35,
            "schedule": "plateau",
            "lr_decay": 0.5,
            "plateau_patience": 0,
            "max_time": "30m",
        },
    ),
    # A few minutes on 2 CPU cores: a 1x256 LSTM on tinyshakespeare, stopped by time.
    "demo": _preset(
        {"dataset": "tinyshakespeare", "level": "char", "batch_size": 32, "eval_batch_size": 32},
        {"embedding_size": 64},
        {"cell": "lstm", "hidden_size": 256, "num_layers": 1, "dropout": 0.0},
        {
            "optimizer": "adam",
            "lr": 3e-3,
            "clip_norm": 5.0,
            "epochs": 100,
            "bptt": 64,
            "max_time": "3m",
            "log_every": 50,
        },
    ),
}


def preset_config(name: str | None) -> dict[str, Any]:
    """The defaults with preset ``name`` merged in, as a nested dict."""
    return preset_dict(LMConfig(), PRESETS, name)


# --- data -------------------------------------------------------------------------------


class LMBatch(NamedTuple):
    """One truncated-BPTT window of every stream: inputs, targets (B, t) and the window."""

    inputs: torch.Tensor
    targets: torch.Tensor
    loss_from: int
    carry_at: int


def stream_batches(stream: torch.Tensor, k1: int, k2: int) -> list[LMBatch]:
    """BPTT(k1, k2) windows over streams (B, L): targets are the inputs shifted by one.

    Shapes:
        stream (B, L) -> batches of inputs/targets (B, t), t <= k2.
    """
    inputs, targets = stream[:, :-1], stream[:, 1:]
    return [
        LMBatch(inputs[:, w.start : w.stop], targets[:, w.start : w.stop], w.loss_from, w.carry_at)
        for w in windows(inputs.shape[1], k1, k2)
    ]


class LMObjective:
    """Next-token cross-entropy with the state carried between windows."""

    def loss(self, model: LanguageModel, batch: LMBatch, state: Any) -> StepOutput:
        window = Window(0, batch.inputs.shape[1], batch.loss_from, batch.carry_at)
        features, carry = run_window(model.features, batch.inputs, state, window)
        targets = batch.targets[:, batch.loss_from :]
        return StepOutput(model.nll(features, targets), targets.numel(), carry)

    def evaluate(self, model: LanguageModel, batches: Iterable[LMBatch]) -> dict[str, float]:
        total, count = cross_entropy_sum(model, batches)
        loss = total / max(count, 1)
        return {"loss": loss, "ppl": math.exp(min(loss, 700.0)), "bpt": loss / math.log(2)}


def cross_entropy_sum(model: LanguageModel, batches: Iterable[LMBatch]) -> tuple[float, int]:
    """Summed next-token cross-entropy (nats) and token count over windows, state carried."""
    state, total, count = None, 0.0, 0
    for batch in batches:
        features, state = model.features(batch.inputs, state)
        total += float(model.nll(features, batch.targets, reduction="sum"))
        count += batch.targets.numel()
    return total, count


# --- the task object ------------------------------------------------------------------------


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


def text_tokens(
    text: str, level: Level, tokenizer: SubwordTokenizer | None = None, *, reverse: bool = False
) -> list[str]:
    """The tokens of ``text`` at ``level``: characters, words or subword pieces.

    Word and subword lines end with ``<eos>``. The subword level needs the run's
    ``tokenizer``; the others take none. ``reverse`` turns each line's tokens around (the
    order a backward model reads them; see :func:`reverse_lines`).

    Raises:
        ConfigError: ``tokenizer`` is missing for the subword level or given for another.

    Example:
        >>> text_tokens("to be\\n", "word")
        ['to', 'be', '<eos>']
        >>> text_tokens("to be\\n", "word", reverse=True)
        ['be', 'to', '<eos>']
    """
    _check_tokenizer(level, tokenizer)
    tokens = tokenizer.pieces(text) if tokenizer is not None else tokenize(text, level, eos=EOS)
    return reverse_lines(tokens, _line_end(level)) if reverse else tokens


def _line_end(level: Level) -> str:
    return "\n" if level == "char" else EOS


def reverse_lines(tokens: Sequence[str], end: str) -> list[str]:
    """Each line's tokens in reverse order; every ``end`` token stays where it was.

    A backward model reads each line from its last token to its first, then the line's end
    (so ``end`` still means "a line begins here" for what follows it).

    Example:
        >>> reverse_lines(["a", "b", "<eos>", "c", "d", "<eos>", "e"], "<eos>")
        ['b', 'a', '<eos>', 'd', 'c', '<eos>', 'e']
    """
    result: list[str] = []
    line: list[str] = []
    for token in tokens:
        if token == end:
            result.extend(reversed(line))
            result.append(end)
            line = []
        else:
            line.append(token)
    result.extend(reversed(line))
    return result


def _check_tokenizer(level: Level, tokenizer: SubwordTokenizer | None) -> None:
    if (level == "subword") != (tokenizer is not None):
        need = "needs a" if tokenizer is None else "takes no"
        raise ConfigError(f"level {level!r} {need} subword tokenizer", key="tokenizer")


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
        _check_tokenizer(config.data.level, tokenizer)
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
        ids = torch.tensor(self.encode(text))
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

    @torch.no_grad()
    def score(self, texts: Sequence[str]) -> list[ScoredText]:
        """Each text's probability, best first (the material's "pear salad" vs "pair salad")."""
        results = []
        for text in texts:
            tokens = self.tokenize(text.strip())
            ids = torch.tensor([[self._start_id(), *self.vocab.encode(tokens)]])
            logits, _ = self.model(ids[:, :-1])
            logp = torch.log_softmax(logits[0].float(), dim=-1)
            token_logp = logp.gather(1, ids[0, 1:, None])[:, 0]
            total = float(token_logp.sum())
            results.append(
                ScoredText(
                    text,
                    tokens,
                    token_logp.exp().tolist(),
                    total,
                    math.exp(-total / max(len(tokens), 1)),
                )
            )
        return sorted(results, key=lambda r: r.logprob, reverse=True)

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
        line = _open_line(tokens)
        if beam is not None:
            best = decoding.beam_search(
                self.model.step,
                state,
                logits,
                beam=beam,
                max_new=length,
                eos_id=eos,
                banned=banned,
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

    def _text(self, ids: Iterable[int], line: list[str]) -> Iterator[str]:
        """The text of generated ``ids`` as they come, after the open ``line`` of the prompt."""
        tokens = (self.vocab[token_id] for token_id in ids)
        if self.level == "char":
            yield from tokens
        elif self.tokenizer is not None:
            yield from self.tokenizer.stream(tokens, line=line)
        else:
            yield from _word_text(tokens, first=not line)


def _open_line(tokens: list[str]) -> list[str]:
    """The tokens after the last ``<eos>``: the line generated text continues."""
    ends = [i for i, token in enumerate(tokens) if token == EOS]
    return tokens[ends[-1] + 1 :] if ends else tokens


def _word_text(tokens: Iterable[str], *, first: bool) -> Iterator[str]:
    """Words with a space before each but a line's first; ``<eos>`` as a newline."""
    for token in tokens:
        if token == EOS:
            first = True
            yield "\n"
        else:
            yield token if first else " " + token
            first = False


# --- train and load -------------------------------------------------------------------------


def build_model(config: LMConfig, vocab_size: int) -> LanguageModel:
    return LanguageModel(vocab_size, config.model)


def train(
    config: LMConfig,
    out: Path | str,
    *,
    overwrite: bool = False,
    resume: bool = False,
    progress: Progress | None = None,
) -> tuple[LanguageModelTask, FitResult]:
    """Trains a language model into the run directory ``out``.

    The vocabulary (and, at the subword level, the sentencepiece model) comes from the
    training text only; a resumed run reads both back from the run instead.
    With ``resume``, ``config`` must be the run's own (see :func:`resume_config`).

    Under ``torchrun`` every process calls this; they train one model data-parallel, each on
    its rows of every batch, and rank 0 alone writes the run.

    Returns:
        The trained task (best weights) and the training result.

    Raises:
        ConfigError: ``data.subword_vocab`` does not fit the training text (the message
            gives the limit).
    """
    data = config.data
    corpus = _load_corpus(data)
    # Under torchrun (data-parallel, see rnnkit.training.distributed) rank 0 alone creates the
    # run; the other ranks then read its vocabulary back, as a resumed run does, so that every
    # rank has the very same one (sentencepiece training need not be reproducible).
    context = init_distributed(resolve_device(config.train.device))
    if data.batch_size < context.world_size:
        raise ConfigError(
            f"expected at least one stream per process: batch_size is {data.batch_size} "
            f"but torchrun started {context.world_size} processes",
            key="data.batch_size",
        )
    if not resume and context.is_main:
        vocab, tokenizer = _build_vocabulary(data, corpus.train)
        run = RunDir.create(out, config=to_dict(config), overwrite=overwrite)
        run.write_extra("vocab", vocab.to_dict())
        if tokenizer is not None:
            run.write_binary_extra(TOKENIZER_FILE, tokenizer.to_bytes())
    context.barrier()
    if resume or not context.is_main:
        run = RunDir.open(out)
        vocab, tokenizer = _read_vocabulary(run, data.level)
    seed_everything(config.train.seed)
    model = build_model(config, len(vocab))
    k1, k2 = config.train.k1, config.train.k2

    def stream(text: str, rows: int) -> torch.Tensor:
        tokens = text_tokens(text, data.level, tokenizer, reverse=data.reverse)
        return batchify(torch.tensor(vocab.encode(tokens)), rows)

    result = fit(
        model,
        stream_batches(stream(corpus.train, data.batch_size), k1, k2),
        stream_batches(stream(corpus.valid, data.eval_batch_size), k2, k2),
        config.train,
        objective=LMObjective(),
        run=run,
        resume=resume,
        progress=progress,
        dist_context=context,
    )
    context.close()
    return LanguageModelTask(config, vocab, model, run, tokenizer=tokenizer), result


def _load_corpus(data: LMDataConfig) -> LMCorpus:
    return load_lm_corpus(
        dataset=data.dataset,
        data=data.data,
        valid=data.valid,
        test=data.test,
        valid_fraction=data.valid_fraction,
        split_at_line=data.level != "char",
    )


def _build_vocabulary(data: LMDataConfig, text: str) -> tuple[Vocabulary, SubwordTokenizer | None]:
    """The vocabulary of the training ``text`` (and the subword model it comes from)."""
    if data.level == "subword":
        try:
            tokenizer = SubwordTokenizer.train(text, data.subword_vocab, data.subword_model)
        except ConfigError as err:
            raise err.under("data") from None
        return tokenizer.vocabulary(), tokenizer
    vocab = Vocabulary.build(
        tokenize(text, data.level, eos=EOS),
        min_freq=data.min_freq,
        max_vocab=data.max_vocab,
        unk=UNK,
        eos=EOS if data.level == "word" else None,
    )
    return vocab, None


def _read_vocabulary(run: RunDir, level: Level) -> tuple[Vocabulary, SubwordTokenizer | None]:
    """The run's vocabulary (and subword model); plain data, nothing is unpickled.

    Raises:
        RunDirError: A file is missing, or the subword model and ``vocab.json`` disagree.
        DataError: A file is malformed.
    """
    vocab = Vocabulary.from_dict(run.read_extra("vocab"), file=run.path / "vocab.json")
    if level != "subword":
        return vocab, None
    path = run.path / TOKENIZER_FILE
    tokenizer = SubwordTokenizer.from_bytes(run.read_binary_extra(TOKENIZER_FILE), file=path)
    if tokenizer.vocabulary() != vocab:
        raise RunDirError(f"{TOKENIZER_FILE} and vocab.json hold different pieces", path=path)
    return vocab, tokenizer


def resume_config(run: RunDir, overrides: Sequence[str] = ()) -> LMConfig:
    """The run's saved config with ``train.<field>=value`` overrides of resumable fields
    (:data:`rnnkit.tasks.resume.RESUMABLE_CHANGES`).

    Raises:
        ConfigError: An override touches a field a resumed run must keep.
    """
    return resume.resume_config(LMConfig, run, overrides)


def split_text(config: LMConfig, split: Literal["valid", "test"]) -> str:
    """The validation or test text of the run's corpus.

    Raises:
        ConfigError: The corpus has no such split (e.g. no test file was given).
    """
    corpus = _load_corpus(config.data)
    text = corpus.valid if split == "valid" else corpus.test
    if text is None:
        raise ConfigError(
            f"the corpus ({corpus.source}) has no {split} split; use --data FILE", key="split"
        )
    return text


def load(run: RunDir) -> LanguageModelTask:
    """The :class:`LanguageModelTask` saved in ``run`` (weights from safetensors, the
    vocabulary from JSON, a subword model from ``tokenizer.model``; no pickles)."""
    config = from_dict(LMConfig, run.read_config())
    vocab, tokenizer = _read_vocabulary(run, config.data.level)
    model = build_model(config, len(vocab))
    run.load_model(model)
    return LanguageModelTask(config, vocab, model, run, tokenizer=tokenizer)
