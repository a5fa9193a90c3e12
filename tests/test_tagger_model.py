"""SequenceTagger and its character encoders: padding changes nothing, both outputs decode
and give probabilities, and a small tagging task that needs both directions is learned."""

from __future__ import annotations

import pytest
import torch

from rnnkit.config import ConfigError, StackConfig
from rnnkit.data.casing import CASINGS, casing_ids
from rnnkit.models.char_encoder import CharEncoder
from rnnkit.models.tagger import SequenceTagger, TaggerModelConfig


def _text_batch(seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    lengths = torch.tensor([5, 2, 4])
    words = torch.randint(1, 20, (3, 5), generator=gen)
    casing = torch.randint(1, len(CASINGS), (3, 5), generator=gen)
    char_lengths = torch.randint(1, 7, (3, 5), generator=gen)
    chars = torch.randint(1, 15, (3, 5, 6), generator=gen)
    for b, n in enumerate(lengths.tolist()):
        words[b, n:], casing[b, n:], char_lengths[b, n:] = 0, 0, 0
    chars[torch.arange(6) >= char_lengths[..., None]] = 0
    return words, lengths, casing, chars, char_lengths


@pytest.mark.parametrize("chars", ["lstm", "cnn", "none"])
@pytest.mark.parametrize("output", ["crf", "softmax"])
def test_a_padded_batch_tags_each_sentence_as_alone(chars, output):
    torch.manual_seed(0)
    config = TaggerModelConfig(
        embedding_size=6, chars=chars, char_size=4, output=output,
        rnn=StackConfig(cell="gru", hidden_size=5, bidirectional=True),
    )  # fmt: skip
    model = SequenceTagger(4, config, vocab_size=20, num_chars=15, num_casings=len(CASINGS))
    model.eval()
    words, lengths, casing, chars_, char_lengths = _text_batch()
    batch = model(words, lengths, casing=casing, chars=chars_, char_lengths=char_lengths)
    paths = model.decode(batch, lengths)
    probs = model.probabilities(batch, lengths)
    for b, n in enumerate(lengths.tolist()):
        alone = model(
            words[b : b + 1, :n], lengths[b : b + 1], casing=casing[b : b + 1, :n],
            chars=chars_[b : b + 1, :n], char_lengths=char_lengths[b : b + 1, :n],
        )  # fmt: skip
        torch.testing.assert_close(batch[b, :n], alone[0], atol=1e-5, rtol=1e-5)
        assert paths[b] == model.decode(alone, lengths[b : b + 1])[0] and len(paths[b]) == n
        torch.testing.assert_close(probs[b, :n].sum(-1), torch.ones(n), atol=1e-5, rtol=0)
        assert probs[b, n:].abs().sum() == 0


def test_it_learns_a_tag_that_needs_the_right_context():
    """Tag a token 1 when the *next* token is 0: a forward-only reader cannot know it at the
    token, a bidirectional tagger learns it."""
    torch.manual_seed(0)
    x = torch.randint(1, 4, (256, 10))
    x[torch.rand(256, 10) < 0.3] = 0
    tags = torch.zeros_like(x)
    tags[:, :-1] = (x[:, 1:] == 0).long()
    config = TaggerModelConfig(
        embedding_size=8, casing_size=0, chars="none", output="crf",
        rnn=StackConfig(cell="lstm", hidden_size=16, bidirectional=True),
    )  # fmt: skip
    model = SequenceTagger(2, config, vocab_size=4, pad_id=0)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    lengths = torch.full((256,), 10)
    for _ in range(60):
        optimizer.zero_grad()
        model.loss(model(x, lengths), tags, lengths).backward()
        optimizer.step()
    model.eval()
    predicted = torch.tensor(model.decode(model(x, lengths), lengths))
    assert (predicted == tags).float().mean() > 0.97


def test_numeric_steps_and_clear_errors():
    config = TaggerModelConfig(embedding_size=4, output="softmax", rnn=StackConfig(hidden_size=3))
    model = SequenceTagger(3, config, num_features=2)
    emissions = model(torch.randn(2, 5, 2), torch.tensor([5, 3]))
    assert emissions.shape == (2, 5, 3)
    loss = model.loss(emissions, torch.randint(0, 3, (2, 5)), torch.tensor([5, 3]))
    assert loss.item() > 0
    with pytest.raises(ConfigError, match="exactly one of vocab_size and num_features"):
        SequenceTagger(3, config)
    with pytest.raises(ConfigError, match="needs num_chars"):
        SequenceTagger(3, TaggerModelConfig(), vocab_size=5, num_casings=8)
    with pytest.raises(ValueError, match="kind must be 'lstm' or 'cnn'"):
        CharEncoder(5, "gru")
    assert casing_ids(["Paris", "UN", "1996"]) == [2, 3, 5]
