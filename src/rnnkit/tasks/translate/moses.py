"""Text as the Multi30k organisers tokenised it, so that a model trained on raw sentences can
be scored the way the published RNN baselines were: BLEU on lower-cased, punctuation-
normalised, Moses-tokenised text, counted without further splitting (``multi-bleu.perl``).

The organisers' ``scripts/task1-tokenize.sh`` lower-cases, runs Moses'
``normalize-punctuation.perl`` and ``tokenizer.perl`` (hyphens kept inside words, XML
characters escaped: ``man &apos;s``). ``sacremoses`` ports both scripts; read this way, the
raw test_2016_flickr files give the organisers' ``tok`` files line for line (1,000 of 1,000
in English and German, 999 in French).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import sacrebleu
from sacremoses import MosesPunctNormalizer, MosesTokenizer

__all__ = ["organisers_tokenise", "tokenised_bleu"]


@lru_cache(maxsize=8)
def _tools(lang: str) -> tuple[MosesPunctNormalizer, MosesTokenizer]:
    return MosesPunctNormalizer(lang=lang), MosesTokenizer(lang=lang)


def organisers_tokenise(text: str, lang: str) -> str:
    """``text`` lower-cased, punctuation-normalised and Moses-tokenised for language
    ``lang`` (``en``, ``de``, ``fr``, ...), tokens separated by single spaces."""
    normalise, tokeniser = _tools(lang)
    lowered = normalise.normalize(text.lower())
    return tokeniser.tokenize(lowered, escape=True, return_str=True).strip()


def tokenised_bleu(hypotheses: Sequence[str], references: Sequence[str], lang: str) -> float:
    """Corpus BLEU of detokenised ``hypotheses`` against references already in the
    organisers' form (their ``*.lc.norm.tok.*`` lines): the hypotheses are tokenised the same
    way and n-grams are counted on the tokens as they are."""
    tokenised = [organisers_tokenise(h, lang) for h in hypotheses]
    bleu = sacrebleu.corpus_bleu(tokenised, [list(references)], tokenize="none", force=True)
    return bleu.score
