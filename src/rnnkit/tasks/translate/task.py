"""A trained translator: translate text (greedy or beam search, n-best lists), score a test
set with sacreBLEU, and show what the decoder attended to."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import sacrebleu
import torch

from rnnkit.config import ConfigError, validate_positive
from rnnkit.data.batching import batch_indices
from rnnkit.data.parallel import Parallel
from rnnkit.models.decoding import beam_search_batch
from rnnkit.models.seq2seq import DecoderState, Seq2Seq
from rnnkit.tasks.translate.batches import Encoded, collate
from rnnkit.tasks.translate.config import TranslateConfig
from rnnkit.tasks.translate.moses import tokenised_bleu
from rnnkit.tasks.translate.objective import TranslateObjective
from rnnkit.tasks.translate.tokens import Sides
from rnnkit.training.rundir import RunDir

__all__ = ["Alignment", "Translation", "TranslatorTask", "as_predictions"]


class Translation(NamedTuple):
    """One hypothesis: its text, its target tokens, their log-probability (nats) and the
    score it was ranked by (log-probability over length ** length_penalty)."""

    text: str
    tokens: list[str]
    logprob: float
    score: float


class Alignment(NamedTuple):
    """What the decoder attended to while writing one translation.

    Attributes:
        source: The source tokens (subword pieces or words).
        target: The translation's tokens, then ``</s>``.
        weights: Attention weights, float (len(target), len(source)); row t is the
            distribution over source tokens the decoder used to write target token t.
    """

    source: list[str]
    target: list[str]
    weights: np.ndarray


class TranslatorTask:
    """A trained encoder-decoder with both sides' tokens.

    Use :func:`rnnkit.tasks.translate.train` to make one and :func:`rnnkit.load` to get one
    back. ``max_len`` of a translation is ``max_len_a * source tokens + max_len_b``.
    """

    def __init__(
        self, config: TranslateConfig, sides: Sides, model: Seq2Seq, run: RunDir | None
    ) -> None:
        self.config, self.sides, self.model, self.run = config, sides, model.eval(), run

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def predict(self, inputs: Sequence[Any], **options: Any) -> list[dict[str, Any]]:
        """The predictor interface: each text translated, ``{"translation": ..., "n_best":
        [{"text", "logprob", "score"}, ...]}`` (options as :meth:`translate`)."""
        return as_predictions(self.translate(inputs, **options))

    def translate(
        self,
        texts: Sequence[str],
        *,
        beam: int = 1,
        n_best: int = 1,
        length_penalty: float = 1.0,
        max_len_a: float = 1.5,
        max_len_b: int = 10,
    ) -> list[list[Translation]]:
        """The ``n_best`` best translations of each text, best first: greedy decoding with
        ``beam=1``, else beam search; both decode batches of sentences of similar length.

        Raises:
            ConfigError: ``n_best`` above ``beam``, a size below 1, or a text that is empty or
                not a string.
        """
        texts = [_text(x, i) for i, x in enumerate(texts)]
        validate_positive("beam", beam)
        validate_positive("n_best", n_best)
        if n_best > beam:
            raise ConfigError(f"--n-best {n_best} needs --beam of at least {n_best}", key="n_best")
        encoded = [self.sides.src.encode(t) for t in texts]
        limits = _limits(encoded, max_len_a, max_len_b)
        if beam == 1:
            return [[h] for h in self._greedy(encoded, limits)]
        return self._beam(encoded, limits, beam, n_best, length_penalty)

    def _groups(self, encoded: list[list[int]], rows_per_sentence: int) -> list[list[int]]:
        """Sentences of similar length together, ``eval_batch_size`` decoder rows a batch."""
        size = max(1, self.config.data.eval_batch_size // rows_per_sentence)
        return batch_indices([len(s) for s in encoded], size, shuffle=False)

    def _start(self, encoded: list[list[int]], group: list[int]) -> DecoderState:
        """The decoder's state after reading the sentences ``group`` (an empty one as
        ``<unk>``), before its first step."""
        src = [encoded[i] or [self.sides.src.vocab.unk_id] for i in group]
        batch = collate(Encoded(src, [[]] * len(src)), range(len(src)), self.sides.tgt.vocab.eos_id)
        return self.model.encode(batch.src.to(self.device), batch.src_lengths)

    @torch.no_grad()
    def _greedy(self, encoded: list[list[int]], limits: list[int]) -> list[Translation]:
        out: list[Translation | None] = [None] * len(encoded)
        eos = self.sides.tgt.vocab.eos_id
        for group in self._groups(encoded, 1):
            state = self._start(encoded, group)
            tokens = torch.full((len(group),), eos, dtype=torch.long, device=self.device)
            steps = max(limits[i] for i in group)
            written: list[list[int]] = [[] for _ in group]
            logprob = torch.zeros(len(group), dtype=torch.float64)
            done = torch.zeros(len(group), dtype=torch.bool)
            for t in range(steps):
                logits, state = self.model.step(tokens, state)
                logp = logits.float().log_softmax(-1)
                tokens = logp.argmax(-1)
                picked = logp.gather(1, tokens[:, None])[:, 0].double().cpu()
                for row, token in enumerate(tokens.tolist()):
                    if done[row] or t >= limits[group[row]]:
                        continue
                    logprob[row] += picked[row]
                    if token == eos:
                        done[row] = True
                    else:
                        written[row].append(token)
                if bool(done.all()):
                    break
            for row, i in enumerate(group):
                out[i] = self._hypothesis(written[row], float(logprob[row]), 0.0)
        return [h for h in out if h is not None]

    @torch.no_grad()
    def _beam(
        self,
        encoded: list[list[int]],
        limits: list[int],
        beam: int,
        n_best: int,
        length_penalty: float,
    ) -> list[list[Translation]]:
        out: list[list[Translation]] = [[] for _ in encoded]
        eos = self.sides.tgt.vocab.eos_id
        for group in self._groups(encoded, beam):
            state = self._start(encoded, group)
            start = torch.full((len(group),), eos, dtype=torch.long, device=self.device)
            first, state = self.model.step(start, state)
            found = beam_search_batch(
                self.model.step,
                state,
                first,
                beam=beam,
                max_new=[limits[i] for i in group],
                eos_id=eos,
                banned=[self.sides.tgt.vocab.pad_id],
                length_penalty=length_penalty,
                reorder=self.model.reorder,
            )
            for i, hypotheses in zip(group, found, strict=True):
                out[i] = [
                    self._hypothesis([t for t in h.tokens if t != eos], h.logprob, h.score)
                    for h in hypotheses[:n_best]
                ]
        return out

    def _hypothesis(self, ids: list[int], logprob: float, score: float) -> Translation:
        tgt = self.sides.tgt
        length = max(len(ids) + 1, 1)  # the tokens and the <eos> that ended them
        return Translation(
            tgt.text(ids), [tgt.vocab[i] for i in ids], logprob, score or logprob / length
        )

    @torch.no_grad()
    def alignment(self, text: str, translation: Translation) -> Alignment:
        """The attention weights behind ``translation`` of ``text``: the translation's
        tokens fed to the decoder as teacher forcing reads them (the same steps decoding
        took, so the same weights).

        Raises:
            ConfigError: The model has no attention (the fixed-vector encoder-decoder).
        """
        if self.model.attention is None:
            raise ConfigError(
                "this run's model has no attention to plot (it was trained with --attention none)",
                key="plot",
            )
        src, tgt = self.sides.src, self.sides.tgt
        source = src.tokens(text) or [str(src.vocab.unk)]
        ids = tgt.vocab.encode(translation.tokens)
        src_ids = torch.tensor([src.vocab.encode(source)], device=self.device)
        tgt_in = torch.tensor([[tgt.vocab.eos_id, *ids]], device=self.device)
        lengths = torch.tensor([len(source)])
        _, weights = self.model(src_ids, lengths, tgt_in, weights=True)
        return Alignment(source, [*translation.tokens, "</s>"], weights[0].float().cpu().numpy())

    @property
    def bleu_tokenize(self) -> str:
        """How sacreBLEU splits text before counting n-grams: its standard ``13a`` for
        detokenised output against raw references; ``none`` for a run trained on
        already-tokenised text (Multi30k's ``tok`` form, scored as ``multi-bleu.perl`` scores
        it, the way the published RNN baselines were)."""
        return "none" if self.config.data.form == "tok" else "13a"

    def evaluate(
        self,
        pairs: Parallel,
        tokenised_references: Sequence[str] | None = None,
        **options: Any,
    ) -> tuple[dict[str, Any], list[str]]:
        """sacreBLEU's BLEU (tokenised as :attr:`bleu_tokenize` says) and chrF of the
        translations of ``pairs.src`` against ``pairs.tgt``, the length ratio, and the
        model's perplexity of the references; and the translations.

        ``bleu_tok_lc`` is BLEU on lower-cased Moses-tokenised text, as the published
        Multi30k baselines were scored: against ``tokenised_references`` (the organisers'
        ``tok`` lines of the same sentences) when given, and equal to ``bleu`` for a run
        trained on that form. ``options`` go to :meth:`translate` (``beam``, ...).
        """
        hypotheses = [best[0].text for best in self.translate(pairs.src, **options)]
        tokenize = self.bleu_tokenize
        bleu = sacrebleu.corpus_bleu(hypotheses, [pairs.tgt], tokenize=tokenize)
        chrf = sacrebleu.corpus_chrf(hypotheses, [pairs.tgt])
        scores: dict[str, Any] = {
            "bleu": bleu.score,
            "bleu_tokenize": tokenize,
            "chrf": chrf.score,
            "length_ratio": bleu.sys_len / max(bleu.ref_len, 1),
            **self._perplexity(pairs),
        }
        if tokenised_references is not None:
            lang = self.config.data.tgt
            scores["bleu_tok_lc"] = tokenised_bleu(hypotheses, tokenised_references, lang)
        elif self.config.data.form == "tok":
            scores["bleu_tok_lc"] = bleu.score
        return scores, hypotheses

    def bleu_of_ids(self, pairs: Encoded) -> float:
        """BLEU of greedy translations of pairs already read as ids, against references
        written back from their ids: what validation can score without the raw text (a
        character the vocabulary lacks reads as ``<unk>`` in both)."""
        hypotheses = [h.text for h in self._greedy(pairs.src, _limits(pairs.src))]
        references = [self.sides.tgt.text(ids) for ids in pairs.tgt]
        return sacrebleu.corpus_bleu(hypotheses, [references], tokenize=self.bleu_tokenize).score

    @torch.no_grad()
    def _perplexity(self, pairs: Parallel) -> dict[str, float]:
        encoded = Encoded(
            [self.sides.src.encode(s) or [self.sides.src.vocab.unk_id] for s in pairs.src],
            [self.sides.tgt.encode(t) for t in pairs.tgt],
        )
        eos = self.sides.tgt.vocab.eos_id
        size = self.config.data.eval_batch_size
        groups = batch_indices([len(s) for s in encoded.src], size, shuffle=False)
        batches = [collate(encoded, g, eos) for g in groups]
        batches = [type(b)(*(t.to(self.device) for t in b)) for b in batches]
        metrics = TranslateObjective(0.0).evaluate(self.model, batches)
        return {"loss": metrics["loss"], "ppl": metrics["ppl"]}


def _limits(encoded: list[list[int]], a: float = 1.5, b: int = 10) -> list[int]:
    """The most tokens each translation may have: ``a * source tokens + b``, at least 1."""
    return [max(1, int(a * len(s) + b)) for s in encoded]


def _text(value: Any, index: int) -> str:
    if isinstance(value, str) and value.strip():
        return value
    raise ConfigError(f"expected a non-empty text, got {value!r}"[:120], key=f"[{index}]")


def as_predictions(translations: Sequence[Sequence[Translation]]) -> list[dict[str, Any]]:
    """:meth:`TranslatorTask.translate`'s n-best lists as the predictor interface gives them:
    ``{"translation": best text, "n_best": [{"text", "logprob", "score"}, ...]}``."""
    out = []
    for best in translations:
        listed = [{"text": h.text, "logprob": h.logprob, "score": h.score} for h in best]
        out.append({"translation": best[0].text, "n_best": listed})
    return out
