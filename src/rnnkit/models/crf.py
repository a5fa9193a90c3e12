"""A linear-chain conditional random field over per-step emission scores (Lafferty et al.
2001), as taggers put it on a recurrent encoder (Huang et al. 2015; Lample et al. 2016).

A tag sequence ``y_1 .. y_T`` of a sentence with emissions ``e_t`` (the encoder's scores for
each tag at step t) scores

    s(y) = start[y_1] + Σ_t e_t[y_t] + Σ_{t>1} trans[y_{t-1}, y_t] + end[y_T]

and ``p(y | x) = exp(s(y)) / Z`` with ``Z = Σ_y' exp(s(y'))`` over every sequence. The forward
algorithm computes ``log Z`` in O(T K²) (:meth:`LinearChainCRF.log_partition`), Viterbi the
best sequence (:meth:`LinearChainCRF.decode`), and forward-backward each step's tag
marginals (:meth:`LinearChainCRF.marginals`). Everything runs on a padded batch at once:
steps past a sentence's length change nothing (its scores stop at its last real step).

Constraints: ``allowed`` (K, K), ``allowed_start`` and ``allowed_end`` (K,) mark the
transitions a tag scheme permits (:mod:`rnnkit.data.tags`, "no ``I-PER`` after ``O``"); the
others score ``-inf``, so no probability reaches an invalid sequence and Viterbi never
returns one.

Shapes (B sentences, T steps, K tags):
    emissions (B, T, K), tags (B, T) int64, lengths (B,) in [1, T] or None (all T).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnkit.models.masks import real_steps

__all__ = ["LinearChainCRF"]

_NEG = -1e4  # "impossible", finite so that 0 * it stays 0 in sums (exp underflows to 0)


class LinearChainCRF(nn.Module):
    """Transition, start and end scores over ``num_tags`` tags, with optional constraints.

    Args:
        num_tags: ``K``.
        allowed: (K, K) booleans, ``allowed[i, j]``: tag j may follow tag i; None allows all.
        allowed_start: (K,) booleans: tags a sentence may start with; None allows all.
        allowed_end: (K,) booleans: tags a sentence may end with; None allows all.

    Example:
        >>> _ = torch.manual_seed(0)
        >>> crf = LinearChainCRF(3, allowed=torch.tensor([[1, 1, 0], [1, 1, 1], [1, 1, 1]]).bool())
        >>> emissions = torch.randn(2, 4, 3)
        >>> paths = crf.decode(emissions, torch.tensor([4, 2]))
        >>> [len(p) for p in paths], all(b != 2 for p in paths for a, b in zip(p, p[1:]) if a == 0)
        ([4, 2], True)
    """

    def __init__(
        self,
        num_tags: int,
        *,
        allowed: Tensor | None = None,
        allowed_start: Tensor | None = None,
        allowed_end: Tensor | None = None,
    ) -> None:
        super().__init__()
        if num_tags < 1:
            raise ValueError(f"num_tags must be at least 1, got {num_tags}")
        self.num_tags = num_tags
        self.transitions = nn.Parameter(torch.empty(num_tags, num_tags).uniform_(-0.1, 0.1))
        self.start = nn.Parameter(torch.zeros(num_tags))
        self.end = nn.Parameter(torch.zeros(num_tags))
        self.register_buffer("allowed", _mask(allowed, (num_tags, num_tags), "allowed"))
        self.register_buffer("allowed_start", _mask(allowed_start, (num_tags,), "allowed_start"))
        self.register_buffer("allowed_end", _mask(allowed_end, (num_tags,), "allowed_end"))

    # --- the three scores, constraints applied ---

    def _transitions(self) -> Tensor:
        return self.transitions.masked_fill(~self.allowed, _NEG)

    def _start(self) -> Tensor:
        return self.start.masked_fill(~self.allowed_start, _NEG)

    def _end(self) -> Tensor:
        return self.end.masked_fill(~self.allowed_end, _NEG)

    # --- scores of given sequences and of all of them ---

    def score(self, emissions: Tensor, tags: Tensor, lengths: Tensor | None = None) -> Tensor:
        """``s(y)`` of each sentence's ``tags``: (B,)."""
        mask = self._mask(emissions, lengths)  # (B, T)
        B, T, _ = emissions.shape
        emitted = emissions.gather(2, tags[:, :, None])[..., 0]  # (B, T)
        total = self._start()[tags[:, 0]] + (emitted * mask).sum(1)
        if T > 1:
            moved = self._transitions()[tags[:, :-1], tags[:, 1:]]  # (B, T-1)
            total = total + (moved * mask[:, 1:]).sum(1)
        last = tags.gather(1, (mask.sum(1).long() - 1)[:, None])[:, 0]  # (B,)
        return total + self._end()[last]

    def log_partition(self, emissions: Tensor, lengths: Tensor | None = None) -> Tensor:
        """``log Z`` of each sentence by the forward algorithm: (B,).

        ``alpha_t[j] = logsumexp_i(alpha_{t-1}[i] + trans[i, j]) + e_t[j]``, kept as it was
        past a sentence's length.
        """
        mask = self._mask(emissions, lengths)
        trans = self._transitions()
        alpha = self._start() + emissions[:, 0]  # (B, K)
        for t in range(1, emissions.size(1)):
            step = torch.logsumexp(alpha[:, :, None] + trans, dim=1) + emissions[:, t]
            alpha = torch.where(mask[:, t, None], step, alpha)
        return torch.logsumexp(alpha + self._end(), dim=1)

    def nll(self, emissions: Tensor, tags: Tensor, lengths: Tensor | None = None) -> Tensor:
        """``-log p(tags | x)`` of each sentence: (B,), the training loss (summed or averaged
        by the caller)."""
        return self.log_partition(emissions, lengths) - self.score(emissions, tags, lengths)

    # --- decoding ---

    @torch.no_grad()
    def decode(self, emissions: Tensor, lengths: Tensor | None = None) -> list[list[int]]:
        """The most probable tag sequence of each sentence (Viterbi), its length long."""
        mask = self._mask(emissions, lengths)
        trans = self._transitions()
        delta = self._start() + emissions[:, 0]  # (B, K): best score ending in each tag
        back = []
        for t in range(1, emissions.size(1)):
            candidates = delta[:, :, None] + trans  # (B, K_prev, K)
            best, arg = candidates.max(dim=1)
            back.append(arg)
            delta = torch.where(mask[:, t, None], best + emissions[:, t], delta)
        last = (delta + self._end()).argmax(dim=1)  # (B,)
        lengths_ = mask.sum(1).long()
        # Backtrack every sentence at once: past its length a sentence's path holds its last
        # tag, so the step at its length picks the backpointer of that tag.
        path = torch.empty_like(mask, dtype=torch.long)
        path[:, -1] = tag = last
        for t in range(emissions.size(1) - 1, 0, -1):
            previous = back[t - 1].gather(1, tag[:, None])[:, 0]
            tag = torch.where(t < lengths_, previous, last)
            path[:, t - 1] = tag
        return [row[:n] for row, n in zip(path.tolist(), lengths_.tolist(), strict=True)]

    def marginals(self, emissions: Tensor, lengths: Tensor | None = None) -> Tensor:
        """``p(y_t = k | x)`` by forward-backward: (B, T, K), zero past each length."""
        mask = self._mask(emissions, lengths)
        trans = self._transitions()
        B, T, K = emissions.shape
        alphas = [self._start() + emissions[:, 0]]
        for t in range(1, T):
            step = torch.logsumexp(alphas[-1][:, :, None] + trans, dim=1) + emissions[:, t]
            alphas.append(torch.where(mask[:, t, None], step, alphas[-1]))
        # beta_t[i] = log Σ over the rest of the sentence after step t, given y_t = i.
        beta = self._end().expand(B, K)
        betas = [beta]
        for t in range(T - 1, 0, -1):
            step = torch.logsumexp(trans + (emissions[:, t] + beta)[:, None, :], dim=2)
            beta = torch.where(mask[:, t, None], step, beta)
            betas.append(beta)
        betas = betas[::-1]  # betas[t] for t = 0 .. T-1
        log_z = torch.logsumexp(alphas[-1] + self._end(), dim=1)  # (B,)
        out = torch.stack([a + b for a, b in zip(alphas, betas, strict=True)], dim=1)
        probs = torch.exp(out - log_z[:, None, None])
        return probs * mask[..., None]

    def _mask(self, emissions: Tensor, lengths: Tensor | None) -> Tensor:
        if emissions.dim() != 3 or emissions.size(2) != self.num_tags:
            raise ValueError(
                f"emissions must be (batch, time, {self.num_tags}), got {tuple(emissions.shape)}"
            )
        return real_steps(lengths, emissions.size(0), emissions.size(1), emissions.device)

    def extra_repr(self) -> str:
        return f"num_tags={self.num_tags}, constrained={not bool(self.allowed.all())}"


def _mask(given: Tensor | None, shape: tuple[int, ...], name: str) -> Tensor:
    if given is None:
        return torch.ones(shape, dtype=torch.bool)
    if tuple(given.shape) != shape:
        raise ValueError(f"{name} must have shape {shape}, got {tuple(given.shape)}")
    return given.to(torch.bool).clone()
