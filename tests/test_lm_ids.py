"""Compact token-id streams (issue #26, item 9): the same ids as the token lists, in 1-4
bytes per token, with the model fed int64 windows."""

from __future__ import annotations

import pytest
import torch

from rnnkit.data import Vocabulary
from rnnkit.data.errors import DataError
from rnnkit.data.subword import SubwordTokenizer
from rnnkit.tasks.lm import ids as lm_ids
from rnnkit.tasks.lm.batches import LMBatch, stream_batches
from rnnkit.tasks.lm.ids import id_dtype, reverse_char_lines, stream_ids
from rnnkit.tasks.lm.tokens import text_tokens

TEXT = "First Citizen:\nBefore we proceed, hear me.\n\nAll: Speak, speak — ünïcödé 𝔘.\nend"


def _expected(text, level, vocab, tokenizer=None, reverse=False):
    return vocab.encode(text_tokens(text, level, tokenizer, reverse=reverse))


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("level", ["char", "word"])
def test_stream_ids_equal_the_token_lists(level, reverse, monkeypatch):
    # Small pieces, so the ids are stitched from many of them.
    monkeypatch.setattr(lm_ids, "_CHARS_PER_PIECE", 7)
    monkeypatch.setattr(lm_ids, "_LINES_PER_PIECE", 2)
    vocab = Vocabulary.build(text_tokens(TEXT[:40], level), eos="<eos>")
    got = stream_ids(TEXT, level, vocab, reverse=reverse)
    assert got.tolist() == _expected(TEXT, level, vocab, reverse=reverse)
    assert got.dtype == torch.uint8


def test_subword_stream_ids_equal_the_pieces(monkeypatch):
    monkeypatch.setattr(lm_ids, "_LINES_PER_PIECE", 3)
    text = "the cat sat\non the mat\n" * 20 + "a dog\n"
    tokenizer = SubwordTokenizer.train(text, 15)
    vocab = tokenizer.vocabulary()
    for reverse in (False, True):
        got = stream_ids(text, "subword", vocab, tokenizer, reverse=reverse)
        assert got.tolist() == _expected(text, "subword", vocab, tokenizer, reverse)


def test_characters_outside_a_vocabulary_without_unk_are_named():
    vocab = Vocabulary(["a", "b", "\n"], unk=None, eos=None)
    assert stream_ids("ab\nba", "char", vocab).tolist() == [0, 1, 2, 1, 0]
    with pytest.raises(DataError, match=r"token 'c' at position 3 .*no unk"):
        stream_ids("ab\ncab", "char", vocab)


def test_narrowest_dtype_holds_every_id():
    assert id_dtype(256).itemsize == 1 and id_dtype(300).itemsize == 2
    assert id_dtype(40_000).itemsize == 4
    words = [f"w{i}" for i in range(300)]
    vocab = Vocabulary.build(words, eos="<eos>")
    got = stream_ids(" ".join(words) + "\n", "word", vocab)
    assert got.dtype == torch.int16 and int(got.max()) == len(vocab) - 1


def test_reverse_char_lines_keeps_every_newline():
    text = "ab\n\ncde\n"
    assert reverse_char_lines(text) == "".join(text_tokens(text, "char", reverse=True))


def test_windows_stay_narrow_and_reach_the_model_as_int64():
    stream = torch.arange(40, dtype=torch.uint8).view(2, 20)
    batch = stream_batches(stream, 5, 5)[0]
    assert batch.inputs.dtype == torch.uint8
    wide = batch.long()
    assert isinstance(wide, LMBatch) and wide.inputs.dtype == wide.targets.dtype == torch.int64
    assert torch.equal(wide.targets, batch.targets.long())


def test_a_char_level_run_keeps_one_byte_per_character(tmp_path):
    from rnnkit.config import apply_overrides, from_dict
    from rnnkit.tasks import lm
    from rnnkit.tasks.lm.job import JOB

    path = tmp_path / "text.txt"
    path.write_text(TEXT * 50, encoding="utf-8")
    config = from_dict(lm.LMConfig, lm.preset_config(None))
    settings = [f"data.data={path}", "data.level=char", "data.batch_size=4"]
    config = apply_overrides(config, [*settings, "data.eval_batch_size=2"])
    prepared = JOB.prepare(config, None)
    plan = JOB.plan(config, prepared, JOB.build_model(config, prepared.artifacts), None)
    batch = plan.train[0]
    assert batch.inputs.dtype == torch.uint8 and batch.inputs.element_size() == 1
    step = plan.objective.loss(JOB.build_model(config, prepared.artifacts), batch, None)
    assert torch.isfinite(step.loss)
