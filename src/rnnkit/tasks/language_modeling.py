"""Language modeling and text generation: ``rnnkit lm train|eval|score|next|sample``.

Config -> corpus -> vocabulary -> contiguous streams -> :class:`LanguageModel` -> ``fit``
with truncated BPTT (the state carried across windows) -> a run directory. A trained run
loads back as a :class:`LanguageModelTask`, which scores text, ranks alternatives, predicts
the next token and samples.

Probabilities are conditioned on a start context: the ``<eos>`` token for word-level models
(every line of the corpus ended with one, so it marks "a sentence begins here") and a newline
for character-level models.
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
from rnnkit.data.corpus import batchify, load_lm_corpus, tokenize
from rnnkit.models import LanguageModel, LMModelConfig, decoding
from rnnkit.tasks import resume
from rnnkit.tasks.presets import preset_dict
from rnnkit.training.config import TrainConfig
from rnnkit.training.loop import FitResult, StepOutput, fit, seed_everything
from rnnkit.training.progress import Progress
from rnnkit.training.rundir import RunDir
from rnnkit.training.tbptt import Window, run_window, windows

__all__ = [
    "LMConfig",
    "LMDataConfig",
    "LanguageModelTask",
    "PRESETS",
    "ScoredText",
    "load",
    "train",
]

Level = Literal["char", "word"]
EOS = "<eos>"
UNK = "<unk>"


@dataclasses.dataclass(frozen=True, kw_only=True)
class LMDataConfig:
    """Which text, cut into which tokens, batched how.

    Attributes:
        dataset: A registry corpus (``tinyshakespeare``, ``ptb``, ``wikitext-2``).
        data: A UTF-8 text file instead of a dataset.
        valid: Validation text file for ``data`` (default: its last ``valid_fraction``).
        test: Test text file for ``data``.
        level: ``char`` or ``word`` (whitespace tokens, ``<eos>`` at every line end).
        min_freq: Words seen fewer times in training become ``<unk>``.
        max_vocab: Keep at most this many tokens (specials included); None keeps all.
        batch_size: Parallel streams in training (the text is cut into this many rows).
        eval_batch_size: Parallel streams for validation and evaluation.
        valid_fraction: Share of a single text held out for validation.
    """

    dataset: str | None = None
    data: str | None = None
    valid: str | None = None
    test: str | None = None
    level: Level = "char"
    min_freq: int = 1
    max_vocab: int | None = None
    batch_size: int = 20
    eval_batch_size: int = 10
    valid_fraction: float = 0.1

    def __post_init__(self) -> None:
        check_field_types(self)
        for name in ("min_freq", "batch_size", "eval_batch_size"):
            validate_positive(name, getattr(self, name))
        if self.max_vocab is not None:
            validate_positive("max_vocab", self.max_vocab)
        validate_fraction("valid_fraction", self.valid_fraction)


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
        tokens: Its tokens (with ``<eos>`` closing a word-level sentence).
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
    """

    def __init__(
        self, config: LMConfig, vocab: Vocabulary, model: LanguageModel, run: RunDir | None
    ) -> None:
        self.config, self.vocab, self.model, self.run = config, vocab, model.eval(), run

    @property
    def level(self) -> Level:
        return self.config.data.level

    def _start_id(self) -> int:
        return self.vocab.eos_id if self.level == "word" else self.vocab.id("\n")

    def encode(self, text: str) -> list[int]:
        return self.vocab.encode(tokenize(text, self.level, eos=EOS))

    def evaluate(self, text: str, *, batch_size: int | None = None) -> dict[str, float]:
        """Cross-entropy (nats/token), perplexity and bits per token on ``text``."""
        ids = torch.tensor(self.encode(text))
        rows = batch_size or self.config.data.eval_batch_size
        rows = max(1, min(rows, (len(ids) - 1) // 2))
        k = self.config.train.bptt
        with torch.no_grad():
            total, count = cross_entropy_sum(self.model, stream_batches(batchify(ids, rows), k, k))
        loss = total / count
        return {
            "loss": loss,
            "ppl": math.exp(min(loss, 700.0)),
            "bpt": loss / math.log(2),
            "tokens": count,
        }

    @torch.no_grad()
    def score(self, texts: Sequence[str]) -> list[ScoredText]:
        """Each text's probability, best first (the material's "pear salad" vs "pair salad")."""
        results = []
        for text in texts:
            tokens = tokenize(text.strip(), self.level, eos=EOS)
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
        """The ``top`` most likely next tokens after ``prefix``, with probabilities."""
        validate_positive("top", top)
        logits, _ = self._read_prompt(prefix)
        probs = torch.softmax(logits[0].float(), dim=-1)
        values, ids = probs.topk(min(top, len(self.vocab)))
        return [(self.vocab[int(i)], float(p)) for p, i in zip(values, ids, strict=True)]

    def _read_prompt(self, prompt: str) -> tuple[torch.Tensor, Any]:
        tokens = tokenize(prompt, self.level, eos=EOS)
        if self.level == "word" and tokens and tokens[-1] == EOS and not prompt.endswith("\n"):
            tokens = tokens[:-1]  # a prompt is an unfinished line
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
        """Generated text, piece by piece (a character or a word), after ``prompt``.

        Stops after ``length`` tokens, or at ``<eos>`` for word-level models.
        """
        validate_positive("length", length)
        logits, state = self._read_prompt(prompt)
        banned = [self.vocab.unk_id] if no_unk and self.vocab.unk_id is not None else []
        eos = self.vocab.eos_id if self.level == "word" else None
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
            yield from self._pieces(best.tokens, first=not prompt)
            return
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
        first = not prompt
        for token in stream:
            yield from self._pieces([int(token[0])], first=first)
            first = False

    def _pieces(self, ids: list[int], *, first: bool) -> Iterator[str]:
        for i, token_id in enumerate(ids):
            token = self.vocab[token_id]
            if self.level == "char":
                yield token
            elif token == EOS:
                yield "\n"
            else:
                yield token if (first and i == 0) else " " + token


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

    With ``resume``, ``config`` must be the run's own (see :func:`resume_config`).

    Returns:
        The trained task (best weights) and the training result.
    """
    data = config.data
    corpus = load_lm_corpus(
        dataset=data.dataset,
        data=data.data,
        valid=data.valid,
        test=data.test,
        valid_fraction=data.valid_fraction,
        split_at_line=data.level == "word",
    )
    if resume:
        run = RunDir.open(out)
        vocab = Vocabulary.from_dict(run.read_extra("vocab"))
    else:
        train_tokens = tokenize(corpus.train, data.level, eos=EOS)
        vocab = Vocabulary.build(
            train_tokens,
            min_freq=data.min_freq,
            max_vocab=data.max_vocab,
            unk=UNK,
            eos=EOS if data.level == "word" else None,
        )
        run = RunDir.create(out, config=to_dict(config), overwrite=overwrite)
        run.write_extra("vocab", vocab.to_dict())
    seed_everything(config.train.seed)
    model = build_model(config, len(vocab))
    k1, k2 = config.train.k1, config.train.k2
    train_ids = torch.tensor(vocab.encode(tokenize(corpus.train, data.level, eos=EOS)))
    valid_ids = torch.tensor(vocab.encode(tokenize(corpus.valid, data.level, eos=EOS)))
    train_batches = stream_batches(batchify(train_ids, data.batch_size), k1, k2)
    valid_batches = stream_batches(batchify(valid_ids, data.eval_batch_size), k2, k2)
    result = fit(
        model,
        train_batches,
        valid_batches,
        config.train,
        objective=LMObjective(),
        run=run,
        resume=resume,
        progress=progress,
    )
    return LanguageModelTask(config, vocab, model, run), result


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
    data = config.data
    corpus = load_lm_corpus(
        dataset=data.dataset,
        data=data.data,
        valid=data.valid,
        test=data.test,
        valid_fraction=data.valid_fraction,
        split_at_line=data.level == "word",
    )
    text = corpus.valid if split == "valid" else corpus.test
    if text is None:
        raise ConfigError(
            f"the corpus ({corpus.source}) has no {split} split; use --data FILE", key="split"
        )
    return text


def load(run: RunDir) -> LanguageModelTask:
    """The :class:`LanguageModelTask` saved in ``run`` (weights from safetensors, rest JSON)."""
    config = from_dict(LMConfig, run.read_config())
    vocab = Vocabulary.from_dict(run.read_extra("vocab"))
    model = build_model(config, len(vocab))
    run.load_model(model)
    return LanguageModelTask(config, vocab, model, run)
