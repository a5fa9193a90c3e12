"""Decoding: turn a language model's next-token logits into text.

Every algorithm here is model-agnostic. The model is a *step function*

    step(tokens (B,), state) -> (logits (B, V), state)

that reads one token per row and returns the logits of the next one. ``state`` is whatever the
model carries between steps, opaque to decoding: where a search must follow each hypothesis's
parent, the model that owns the state reorders it (``reorder(state, index)``; a language
model's :meth:`~rnnkit.models.LanguageModel.reorder_state`, an encoder-decoder's own), because
only it knows which dimension of which tensor is the batch. Decoding starts from the state
after the prompt and the logits the prompt gave for the first new token (``first_logits``),
so the prompt is read by whatever code is fastest at it (one batched forward over the whole
prompt).

- :func:`filter_logits` reshapes a distribution: banned ids, temperature, top-k, top-p.
- :func:`sample_next` picks one token per row from it (argmax or a seeded draw).
- :func:`generate` yields one token per step, so a caller can stream text as it appears.
- :func:`beam_search` keeps the ``beam`` best partial sequences and returns whole ones;
  :func:`beam_search_batch` runs it for many prompts in one batch.

The step function is always called under ``torch.no_grad()``: decoding never needs
gradients, and a graph kept across hundreds of steps would only grow.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

import torch
from torch import Tensor

__all__ = [
    "Hypothesis",
    "ReorderFn",
    "StepFn",
    "beam_search",
    "beam_search_batch",
    "filter_logits",
    "generate",
    "sample_next",
]

StepFn = Callable[[Tensor, Any], tuple[Tensor, Any]]
"""``step(tokens (B,), state) -> (logits (B, V), state)``; see the module docstring."""

ReorderFn = Callable[[Any, Tensor], Any]
"""``reorder(state, index (B',)) -> state`` of rows ``index``; the state's owner gives it."""


# ---- one step: filtering and sampling ----------------------------------------------------
def filter_logits(
    logits: Tensor,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    banned: Sequence[int] = (),
) -> Tensor:
    """Reshape next-token logits before sampling; removed tokens get ``-inf``.

    Applied in this order:

    1. ``banned`` ids are removed (e.g. ``<unk>``: rejecting unknown-word samples, as the
       course material suggests, is the same as sampling from the rest renormalised).
    2. Temperature: ``logits / temperature``; < 1 sharpens the distribution, > 1 flattens it.
    3. Top-k: keep the ``top_k`` largest logits. Tokens tied with the k-th are all kept, so
       the result never depends on how a sort breaks ties.
    4. Top-p, nucleus sampling (Holtzman et al. 2020): keep the smallest set of most likely
       tokens whose probability (after steps 1-3) sums to at least ``top_p``; the most
       likely token is always kept, and tokens tied with the least likely kept one too.

    Args:
        logits: Unnormalised log-probabilities, floating (B, V).
        temperature: > 0.
        top_k: >= 1, or None for no limit; a value >= V keeps everything.
        top_p: In (0, 1], or None; 1 keeps everything.
        banned: Token ids in [0, V) that must never be chosen.

    Returns:
        New logits (B, V): kept entries scaled by ``1 / temperature``, the others ``-inf``.

    Raises:
        ValueError: An option is out of range, or a row has no token left.

    Shapes:
        logits (B, V) -> (B, V).

    Example:
        >>> import torch
        >>> probs = torch.tensor([[0.5, 0.3, 0.15, 0.05]])
        >>> kept = filter_logits(probs.log(), top_p=0.8, banned=[1])
        >>> kept.softmax(-1).mul(100).round().tolist()
        [[77.0, 0.0, 23.0, 0.0]]
    """
    _check_logits(logits, "logits")
    vocab = logits.size(1)
    _check_filter_options(vocab, temperature, top_k, top_p, banned)
    out = logits
    if len(banned) > 0:
        out = out.clone()
        out[:, list(banned)] = -math.inf
    _check_rows_alive(out, banned)
    if temperature != 1.0:
        out = out / temperature
    if top_k is not None and top_k < vocab:
        kth = out.topk(top_k, dim=-1).values[:, -1:]  # (B, 1)
        out = out.masked_fill(out < kth, -math.inf)
    if top_p is not None and top_p < 1.0:
        out = _nucleus(out, top_p)
    return out


def _nucleus(logits: Tensor, top_p: float) -> Tensor:
    """Top-p filter (Holtzman et al. 2020) of already-scaled logits (B, V)."""
    probs = logits.softmax(dim=-1)
    sorted_probs = probs.sort(dim=-1, descending=True).values  # (B, V)
    # Probability mass strictly before each sorted token: a token is needed while the mass
    # before it is still short of top_p; the first token always is (mass 0).
    cumulative = sorted_probs.cumsum(dim=-1)
    before = torch.cat([torch.zeros_like(cumulative[:, :1]), cumulative[:, :-1]], dim=-1)
    kept = (before < top_p).sum(dim=-1, keepdim=True)  # (B, 1), >= 1
    threshold = sorted_probs.gather(-1, kept - 1)  # (B, 1): least likely kept probability
    return logits.masked_fill(probs < threshold, -math.inf)


def sample_next(
    logits: Tensor,
    *,
    generator: torch.Generator | None = None,
    greedy: bool = False,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    banned: Sequence[int] = (),
) -> Tensor:
    """Choose the next token of every row.

    The logits go through :func:`filter_logits` with the given options, then either the
    most likely token is taken (``greedy``; ties go to the lowest id) or one is drawn from
    the softmax with ``torch.multinomial``. Under ``greedy`` only ``banned`` can change the
    choice (temperature, top-k and top-p keep the argmax) and ``generator`` is not used.

    Args:
        logits: Floating (B, V).
        generator: Source of randomness for the draw; the same seed gives the same tokens.
            None uses torch's global generator.
        greedy: Take the argmax instead of drawing.
        temperature: See :func:`filter_logits`.
        top_k: See :func:`filter_logits`.
        top_p: See :func:`filter_logits`.
        banned: See :func:`filter_logits`.

    Returns:
        Token ids, int64 (B,).

    Shapes:
        logits (B, V) -> (B,).

    Example:
        >>> import torch
        >>> logits = torch.tensor([[0.0, 3.0, 1.0], [2.0, 0.0, 5.0]])
        >>> sample_next(logits, greedy=True, banned=[2]).tolist()
        [1, 0]
        >>> g = torch.Generator().manual_seed(0)
        >>> sample_next(logits, generator=g, top_k=1).tolist()
        [1, 2]
    """
    filtered = filter_logits(
        logits.detach(), temperature=temperature, top_k=top_k, top_p=top_p, banned=banned
    )
    if greedy:
        return filtered.argmax(dim=-1)
    probs = filtered.softmax(dim=-1)  # removed tokens: exp(-inf) = 0, never drawn
    return torch.multinomial(probs, 1, generator=generator).squeeze(1)


# ---- whole sequences -------------------------------------------------------------------
def generate(
    step: StepFn,
    state: Any,
    first_logits: Tensor,
    *,
    max_new: int,
    eos_id: int | None,
    stop_at_eos: bool = True,
    generator: torch.Generator | None = None,
    greedy: bool = False,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    banned: Sequence[int] = (),
) -> Iterator[Tensor]:
    """Generate tokens one at a time (ancestral sampling, or greedy decoding).

    Each iteration chooses one token per row with :func:`sample_next` and yields it; only
    when the caller asks for the next one is it fed back through ``step``, so a command
    line can print text as it is produced and stop early at no cost.

    Stopping: after ``max_new`` tokens, or, when ``stop_at_eos`` and ``eos_id`` is given,
    as soon as every row has produced ``eos_id`` (the eos itself is yielded). With a batch
    (B > 1) a row that has finished keeps yielding ``eos_id`` until all rows have.

    All options are checked before the first token, when ``generate`` is called.

    Args:
        step: ``step(tokens (B,), state) -> (logits (B, V), state)``.
        state: The model's state after the prompt (batch B), or None for its zero state.
        first_logits: Logits of the first new token, floating (B, V).
        max_new: Most tokens to produce, >= 0.
        eos_id: End-of-sequence id in [0, V), or None if the model has none.
        stop_at_eos: Stop a row at ``eos_id``; False treats eos as an ordinary token.
        generator: See :func:`sample_next`.
        greedy: See :func:`sample_next`.
        temperature: See :func:`filter_logits`.
        top_k: See :func:`filter_logits`.
        top_p: See :func:`filter_logits`.
        banned: See :func:`filter_logits`.

    Returns:
        An iterator of int64 token tensors (B,), one per step.

    Shapes:
        first_logits (B, V) -> yields (B,) at most ``max_new`` times.

    Example:
        >>> import torch
        >>> table = torch.tensor([[0.1, 0.9], [0.8, 0.2]]).log()  # bigram: log P[next | prev]
        >>> step = lambda tokens, state: (table[tokens], state)
        >>> tokens = generate(step, None, table[[1]], max_new=4, eos_id=None, greedy=True)
        >>> [t.item() for t in tokens]
        [0, 1, 0, 1]
    """
    _check_logits(first_logits, "first_logits")
    vocab = first_logits.size(1)
    _check_int("max_new", max_new, minimum=0)
    _check_token_id("eos_id", eos_id, vocab)
    _check_filter_options(vocab, temperature, top_k, top_p, banned)
    options = dict(
        generator=generator,
        greedy=greedy,
        temperature=temperature,
        top_k=top_k,
        top_p=top_p,
        banned=banned,
    )
    stop_id = eos_id if stop_at_eos else None
    return _generate(step, state, first_logits, max_new, stop_id, options)


def _generate(
    step: StepFn,
    state: Any,
    logits: Tensor,
    max_new: int,
    eos_id: int | None,
    options: dict[str, Any],
) -> Iterator[Tensor]:
    """The loop of :func:`generate`, after its checks."""
    batch, vocab = logits.shape
    finished = torch.zeros(batch, dtype=torch.bool, device=logits.device)
    for produced in range(1, max_new + 1):
        tokens = sample_next(logits, **options)
        if eos_id is not None:
            tokens = tokens.masked_fill(finished, eos_id)
            finished |= tokens == eos_id
        yield tokens
        if produced == max_new or bool(finished.all()):
            return  # no step call for a token nobody will read
        with torch.no_grad():
            logits, state = step(tokens, state)
        _check_step_logits(logits, batch, vocab)


class Hypothesis(NamedTuple):
    """One result of :func:`beam_search`.

    Attributes:
        tokens: The generated ids, ending with ``eos_id`` when ``finished``.
        logprob: Natural-log probability of ``tokens`` given the prompt (a sum over tokens).
        score: ``logprob / len(tokens) ** length_penalty``; what hypotheses are ranked by.
        finished: Whether the hypothesis ended with ``eos_id`` (else ``max_new`` cut it).
    """

    tokens: list[int]
    logprob: float
    score: float
    finished: bool


def beam_search(
    step: StepFn,
    state: Any,
    first_logits: Tensor,
    *,
    beam: int,
    max_new: int,
    eos_id: int | None,
    banned: Sequence[int] = (),
    length_penalty: float = 1.0,
    reorder: ReorderFn | None = None,
) -> list[Hypothesis]:
    """The most probable continuations of one prompt, by beam search.

    Greedy decoding commits to the likeliest token at every step and can miss a sequence
    whose first token is less likely but whose continuation is far more so. Beam search
    keeps the ``beam`` best partial sequences ("live" hypotheses) instead:

    1. Every live hypothesis is extended by every token: its log-probability plus the
       token's log-probability (``log_softmax`` of the step's logits, ``banned`` removed).
       All live hypotheses go through ``step`` together, as one batch of ``beam`` rows; the
       state follows each child's parent through ``reorder``.
    2. The extensions are ranked by log-probability (ties: lower parent, then lower id).
       One that ends with ``eos_id`` is *finished* and set aside; the best ``beam`` others
       become the new live hypotheses.
    3. Finished hypotheses are ranked by ``score = logprob / length ** length_penalty``
       (the simple form of Wu et al. 2016's length normalisation; 0 ranks by raw
       log-probability, which favours short outputs) and the best ``beam`` are kept.
    4. The search stops when ``beam`` hypotheses have finished and no live one can still
       beat the worst of them, or after ``max_new`` tokens. A live hypothesis's
       log-probability can only fall, so its best possible score is its log-probability
       divided by the largest ``length ** length_penalty`` it may still reach (up to
       ``max_new``): the stop is exact, never a guess. Live hypotheses still there at
       ``max_new`` compete with the finished ones, marked ``finished=False``.

    Each returned ``logprob`` is exactly the model's log-probability of its tokens, but the
    search is approximate: only ``beam >= V ** (max_new - 1)`` is guaranteed to find the
    most probable sequence.

    Args:
        step: ``step(tokens (B,), state) -> (logits (B, V), state)``.
        state: The model's state after the prompt (batch 1), or None for its zero state.
        first_logits: Logits of the first new token, floating (1, V).
        beam: Hypotheses kept, >= 1. With ``eos_id=None``, 1 is greedy decoding; with an
            eos, a beam of 1 also keeps the finished eos hypothesis it passed, so it may
            return that instead of greedy's longer output.
        max_new: Most tokens in a hypothesis, >= 1.
        eos_id: End-of-sequence id in [0, V), or None (then every hypothesis runs to
            ``max_new``).
        banned: Token ids that never appear, see :func:`filter_logits`.
        length_penalty: Exponent of the length in the score; any finite number.
        reorder: ``reorder(state, index)``, the rows ``index`` of a state ``step`` returned,
            from the model that owns it; needed unless ``state`` and every step's are None.

    Returns:
        At most ``beam`` hypotheses, best score first.

    Shapes:
        first_logits (1, V); ``step`` is called with tokens (k,) and a state of batch k,
        k <= ``beam``, and must return logits (k, V).

    Example:
        >>> import math, torch
        >>> # Greedy takes 0 (p = 0.6) then at best 0.5: 0.30. Beam finds 1 then 1: 0.36.
        >>> table = torch.tensor([[0.5, 0.5], [0.1, 0.9]]).log()
        >>> step = lambda tokens, state: (table[tokens], state)
        >>> first = torch.tensor([[0.6, 0.4]]).log()
        >>> best = beam_search(step, None, first, beam=2, max_new=2, eos_id=None)[0]
        >>> best.tokens, round(math.exp(best.logprob), 2)
        ([1, 1], 0.36)
    """
    _check_logits(first_logits, "first_logits")
    if first_logits.size(0) != 1:
        raise ValueError(
            f"first_logits must hold one prompt, shape (1, V), got {tuple(first_logits.shape)}"
        )
    return beam_search_batch(
        step,
        state,
        first_logits,
        beam=beam,
        max_new=max_new,
        eos_id=eos_id,
        banned=banned,
        length_penalty=length_penalty,
        reorder=reorder,
    )[0]


def beam_search_batch(
    step: StepFn,
    state: Any,
    first_logits: Tensor,
    *,
    beam: int,
    max_new: int | Sequence[int],
    eos_id: int | None,
    banned: Sequence[int] = (),
    length_penalty: float = 1.0,
    reorder: ReorderFn | None = None,
) -> list[list[Hypothesis]]:
    """:func:`beam_search` of N prompts at once: the same search for each prompt, its own
    live hypotheses and stop, but every live hypothesis of every prompt goes through
    ``step`` in one batch, which is what makes beam search fast on a translation test set.

    Each prompt's result is exactly what :func:`beam_search` returns for it alone (up to
    the floating-point differences a different batch can make in ``step``). A prompt whose
    search has stopped leaves the batch.

    Args:
        step: As :func:`beam_search`.
        state: The model's state after the N prompts (batch N, row i prompt i), or None.
        first_logits: Logits of each prompt's first new token, floating (N, V).
        beam: Hypotheses kept per prompt, >= 1.
        max_new: Most tokens in a hypothesis: one for every prompt, or one per prompt.
        eos_id: As :func:`beam_search`.
        banned: As :func:`beam_search`.
        length_penalty: As :func:`beam_search`.
        reorder: As :func:`beam_search`; here ``index`` picks rows across prompts.

    Returns:
        For each prompt, at most ``beam`` hypotheses, best score first.

    Shapes:
        first_logits (N, V); ``step`` gets tokens (k,) and a state of batch k, k <= N * beam,
        the rows of one prompt next to each other, prompts in their order.
    """
    _check_logits(first_logits, "first_logits")
    count, vocab = first_logits.shape
    limits = [max_new] * count if isinstance(max_new, int) else list(max_new)
    if len(limits) != count:
        raise ValueError(f"max_new gives {len(limits)} limits for {count} prompts")
    _check_int("beam", beam, minimum=1)
    for limit in limits:
        _check_int("max_new", limit, minimum=1)
    _check_token_id("eos_id", eos_id, vocab)
    _check_filter_options(vocab, 1.0, None, None, banned)
    _check_finite("length_penalty", length_penalty)
    searches = [_Beam(beam, limit, eos_id, length_penalty) for limit in limits]
    rows = [[i] for i in range(count)]  # the batch rows of each prompt's live hypotheses
    logits = first_logits
    for length in range(1, max(limits) + 1):
        logprobs = filter_logits(logits.detach(), banned=banned).double().log_softmax(-1)
        parents: list[int] = []
        next_rows: list[list[int]] = []
        for search, mine in zip(searches, rows, strict=True):
            if not mine:
                next_rows.append([])
                continue
            local = search.extend(logprobs[mine[0] : mine[-1] + 1], length)
            if search.done(length) or length == search.max_new:
                next_rows.append([])
                continue
            next_rows.append(list(range(len(parents), len(parents) + len(local))))
            parents.extend(mine[0] + p for p in local.tolist())
        rows = next_rows
        if not parents:
            break
        state = _follow(state, torch.tensor(parents, dtype=torch.long), reorder)
        tokens = torch.cat(
            [s.last_tokens(first_logits.device) for s, r in zip(searches, rows, strict=True) if r]
        )
        with torch.no_grad():
            logits, state = step(tokens, state)
        _check_step_logits(logits, len(parents), vocab)
    return [search.result() for search in searches]


def _follow(state: Any, parents: Tensor, reorder: ReorderFn | None) -> Any:
    """The state rows of each live hypothesis's parent."""
    if state is None:
        return None
    if reorder is None:
        raise ValueError(
            "beam_search needs reorder(state, index) to follow a non-None state: the model "
            "that owns the state knows which dimension is the batch"
        )
    return reorder(state, parents)


def _best_flat(totals: Tensor, count: int) -> Tensor:
    """Flat indices of the ``count`` largest ``totals``, largest first, ties broken by the
    lower index (parent, then token id), as argmax breaks them.

    ``topk`` finds the threshold; every entry tied with it is kept before the stable sort,
    so which of several tied entries ``topk`` happened to pick never matters.
    """
    threshold = totals.topk(count).values[-1]
    candidates = (totals >= threshold).nonzero()[:, 0]  # ascending flat index
    ranked = torch.sort(totals[candidates], descending=True, stable=True).indices
    return candidates[ranked][:count]


class _Beam:
    """Book-keeping of :func:`beam_search`: live and finished hypotheses."""

    def __init__(self, beam: int, max_new: int, eos_id: int | None, length_penalty: float):
        self.beam = beam
        self.max_new = max_new
        self.eos_id = eos_id
        self.alpha = length_penalty
        self.live: list[tuple[list[int], float]] = [([], 0.0)]  # the empty prompt continuation
        self.finished: list[Hypothesis] = []

    def score(self, logprob: float, length: int) -> float:
        return logprob / length**self.alpha

    def extend(self, logprobs: Tensor, length: int) -> Tensor:
        """Extend every live hypothesis by one token; returns each new one's parent row.

        ``logprobs`` (k, V) holds the next-token log-probabilities of the k live rows.
        """
        vocab = logprobs.size(1)
        base = torch.tensor([lp for _, lp in self.live], dtype=logprobs.dtype)
        totals = (base.to(logprobs.device)[:, None] + logprobs).flatten().cpu()  # (k*V,)
        # At most one extension per parent is an eos, so the best k + beam always hold
        # `beam` live ones whenever that many finite extensions exist.
        count = min(len(self.live) + self.beam, totals.numel())
        order = _best_flat(totals, count)
        live, parents = [], []
        for flat in order.tolist():
            logprob = totals[flat].item()
            if logprob == -math.inf:
                break  # banned or impossible; everything after it too
            parent, token = divmod(flat, vocab)
            tokens = [*self.live[parent][0], token]
            if token == self.eos_id:
                self.finished.append(Hypothesis(tokens, logprob, self.score(logprob, length), True))
            elif len(live) < self.beam:
                live.append((tokens, logprob))
                parents.append(parent)
        self.finished = sorted(self.finished, key=lambda h: -h.score)[: self.beam]
        self.live = live
        return torch.tensor(parents, dtype=torch.long)

    def done(self, length: int) -> bool:
        """Whether no live hypothesis can still enter the final ``beam``."""
        if not self.live:
            return True
        if len(self.finished) < self.beam:
            return False
        best_logprob = max(lp for _, lp in self.live)  # <= 0, and only falls with length
        largest_norm = max(length**self.alpha, self.max_new**self.alpha)
        return best_logprob / largest_norm <= self.finished[-1].score

    def last_tokens(self, device: torch.device) -> Tensor:
        return torch.tensor([tokens[-1] for tokens, _ in self.live], device=device)

    def result(self) -> list[Hypothesis]:
        # Live hypotheses left after a stop by `done` score no better than the worst finished
        # one (their bound includes their current length), and the stable sort puts finished
        # ones first on ties, so adding them always is the same as adding them only at max_new.
        pool = self.finished + [
            Hypothesis(tokens, lp, self.score(lp, len(tokens)), False) for tokens, lp in self.live
        ]
        return sorted(pool, key=lambda h: -h.score)[: self.beam]


# ---- checks at the public boundary ------------------------------------------------------
def _describe(value: Any) -> str:
    if isinstance(value, Tensor):
        return f"a {value.dtype} tensor of shape {tuple(value.shape)}"
    return f"{value!r} ({type(value).__name__})"


def _check_logits(logits: Any, name: str) -> None:
    if not isinstance(logits, Tensor) or logits.dim() != 2 or not logits.is_floating_point():
        raise ValueError(
            f"{name} must be a floating (batch, vocab) tensor, got {_describe(logits)}"
        )
    if logits.size(1) == 0:
        raise ValueError(f"{name} must have a vocabulary of at least 1, got shape (B, 0)")


def _check_step_logits(logits: Any, batch: int, vocab: int) -> None:
    if not isinstance(logits, Tensor) or tuple(logits.shape) != (batch, vocab):
        raise ValueError(
            f"step must return logits of shape (B, V) = ({batch}, {vocab}), got {_describe(logits)}"
        )


def _check_int(name: str, value: Any, minimum: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {_describe(value)}")


def _check_finite(name: str, value: Any) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {_describe(value)}")


def _check_token_id(name: str, value: Any, vocab: int) -> None:
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < vocab:
        raise ValueError(f"{name} must be a token id in [0, {vocab}) or None, got {value!r}")


def _check_filter_options(
    vocab: int,
    temperature: float,
    top_k: int | None,
    top_p: float | None,
    banned: Sequence[int],
) -> None:
    _check_finite("temperature", temperature)
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature!r}")
    if top_k is not None:
        _check_int("top_k", top_k, minimum=1)
    if top_p is not None:
        _check_finite("top_p", top_p)
        if not 0 < top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {top_p!r}")
    for token in banned:
        if not isinstance(token, int) or isinstance(token, bool) or not 0 <= token < vocab:
            raise ValueError(
                f"banned must hold token ids in [0, {vocab}), got {token!r} in {list(banned)!r}"
            )


def _check_rows_alive(logits: Tensor, banned: Sequence[int]) -> None:
    dead = (logits == -math.inf).all(dim=-1)  # (B,)
    if bool(dead.any()):
        row = int(dead.nonzero()[0, 0])
        raise ValueError(
            f"no token left to choose in row {row}: all {logits.size(1)} logits are -inf "
            f"with banned={sorted(set(banned))!r}"
        )
