"""SequenceClassifier, pooling and length-bucketed batches: numbers, not only shapes."""

from __future__ import annotations

import pytest
import torch

from rnnkit.config import ConfigError, RecurrentConfig, StackConfig
from rnnkit.data.batching import batch_indices, collate_tokens, truncate
from rnnkit.layers import Recurrent
from rnnkit.models.classifier import ClassifierModelConfig, SequenceClassifier
from rnnkit.models.pooling import pool

CELLS = [
    {"cell": "lstm"},
    {"cell": "gru"},
    {"cell": "elman", "nonlinearity": "relu"},
    {"cell": "jordan", "feedback": "both"},
    {"cell": "lstm", "layer_norm": True},
]


def _classifier(pooling: str, bidirectional: bool = True, **rnn) -> SequenceClassifier:
    torch.manual_seed(0)
    rnn = {"cell": "lstm", **rnn}
    config = ClassifierModelConfig(
        embedding_size=6,
        pooling=pooling,
        attention_size=5,
        rnn=StackConfig(hidden_size=7, num_layers=2, bidirectional=bidirectional, **rnn),
    )
    return SequenceClassifier(3, config, vocab_size=30).double()


@pytest.mark.parametrize("pooling", ["last", "mean", "max", "concat", "attention"])
@pytest.mark.parametrize("rnn", CELLS, ids=lambda c: "-".join(str(v) for v in c.values()))
@pytest.mark.parametrize("grad", [True, False], ids=["train-path", "eval-path"])
def test_padded_batch_gives_each_sequence_its_own_logits(pooling, rnn, grad):
    """Padding changes nothing: a padded batch == every sequence run alone, unpadded."""
    model = _classifier(pooling, **rnn).eval()
    sequences = [[3, 4, 5, 6, 7, 8], [9, 10], [11, 12, 13, 14], [15]]
    batch = collate_tokens(sequences, None, pad_id=0)
    with torch.set_grad_enabled(grad):
        together = model(batch.inputs, batch.lengths)
        alone = torch.cat([model(torch.tensor([s])) for s in sequences])
    torch.testing.assert_close(together, alone, rtol=1e-9, atol=1e-10)


def test_pad_embedding_stays_zero_and_untrained():
    model = _classifier("mean")
    batch = collate_tokens([[1, 2, 3], [4]], [0, 1], pad_id=0)
    torch.nn.functional.cross_entropy(model(batch.inputs, batch.lengths), batch.labels).backward()
    assert model.embedding.weight[0].abs().sum() == 0
    assert model.embedding.weight.grad[0].abs().sum() == 0
    assert model.embedding.weight.grad[1:5].abs().sum() > 0


def test_pool_last_takes_the_backward_direction_at_the_first_step():
    # Two directions of width 1: forward half [:, :, 0], backward half [:, :, 1].
    out = torch.tensor([[[1.0, 10.0], [2.0, 20.0], [0.0, 0.0]]])
    assert pool(out, torch.tensor([2]), "last", directions=2).tolist() == [[2.0, 10.0]]
    assert pool(out, torch.tensor([2]), "last", directions=1).tolist() == [[2.0, 20.0]]
    # mean divides by the real length, max ignores padding even when all values are negative
    neg = torch.tensor([[[-3.0], [-1.0], [0.0]]])
    assert pool(neg, torch.tensor([2]), "mean").tolist() == [[-2.0]]
    assert pool(neg, torch.tensor([2]), "max").tolist() == [[-1.0]]
    with pytest.raises(ValueError, match="how must be one of"):
        pool(out, None, "median")


def test_concat_pooling_is_last_max_mean_side_by_side_and_widens_the_head():
    out = torch.tensor(
        [[[1.0, 10.0], [3.0, 20.0], [0.0, 0.0]], [[2.0, 5.0], [-1.0, 1.0], [5.0, 3.0]]]
    )
    lengths = torch.tensor([2, 3])
    got = pool(out, lengths, "concat", directions=2)
    assert got.tolist() == [[3.0, 10.0, 3.0, 20.0, 2.0, 15.0], [5.0, 5.0, 5.0, 5.0, 2.0, 3.0]]
    model = _classifier("concat")
    assert model.head.in_features == 3 * model.rnn.output_size


def test_attention_weights_are_a_distribution_over_the_real_steps():
    model = _classifier("attention")
    batch = collate_tokens([[1, 2, 3, 4], [5, 6]], None, pad_id=0)
    weights = model.attention.weights(model.encode(batch.inputs, batch.lengths), batch.lengths)
    torch.testing.assert_close(weights.sum(1), torch.ones(2, dtype=weights.dtype))
    assert weights[1, 2:].eq(0).all() and weights[1, :2].gt(0).all()


def test_numeric_inputs_go_through_a_projection():
    torch.manual_seed(0)
    config = ClassifierModelConfig(embedding_size=4, rnn=StackConfig(cell="gru", hidden_size=5))
    model = SequenceClassifier(2, config, num_features=3)
    assert model.embedding is None and model.projection.in_features == 3
    assert model(torch.randn(2, 6, 3), torch.tensor([6, 2])).shape == (2, 2)
    with pytest.raises(ValueError, match=r"numeric inputs must be a \(batch, time, features\)"):
        model(torch.tensor([[1, 2]]))


def test_frozen_embeddings_get_no_gradient():
    config = ClassifierModelConfig(embedding_size=4, freeze_embeddings=True)
    model = SequenceClassifier(2, config, vocab_size=10)
    assert not model.embedding.weight.requires_grad


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"vocab_size": 5, "num_features": 2}, "exactly one of vocab_size"),
        ({}, "exactly one of vocab_size"),
    ],
)
def test_classifier_needs_exactly_one_input_kind(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        SequenceClassifier(2, ClassifierModelConfig(), **kwargs)


def test_classifier_needs_two_classes():
    with pytest.raises(ConfigError, match="at least 2 classes, got 1"):
        SequenceClassifier(1, ClassifierModelConfig(), vocab_size=5)


def test_config_rejects_unknown_pooling_and_derives_the_stack_input_size():
    with pytest.raises(ConfigError, match="pooling"):
        ClassifierModelConfig(pooling="median")
    # The stack's input size is no config field: the model derives it from the embedding.
    model = SequenceClassifier(2, ClassifierModelConfig(embedding_size=50), vocab_size=10)
    assert model.rnn.cells[0].input_size == 50
    with pytest.raises(ConfigError, match="expected a StackConfig, got a RecurrentConfig"):
        ClassifierModelConfig(rnn=RecurrentConfig(input_size=50, hidden_size=8))


def test_variable_lengths_with_gradients_run_the_loop_on_cpu():
    """torch's packed CPU backward is very slow; 'auto' sends such batches to the loop."""
    layer = Recurrent("lstm", input_size=3, hidden_size=4)
    x, lengths = torch.randn(2, 5, 3), torch.tensor([5, 2])
    assert layer._packed_backward_on_cpu(x, lengths)
    assert not layer._packed_backward_on_cpu(x, None)
    with torch.no_grad():
        assert not layer._packed_backward_on_cpu(x, lengths)
    fused = Recurrent("lstm", input_size=3, hidden_size=4, engine="fused")
    assert not fused._packed_backward_on_cpu(x, lengths)


# --- batching ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "policy, expected",
    [("head", [0, 1, 2, 3, 4]), ("tail", [5, 6, 7, 8, 9]), ("head+tail", [0, 6, 7, 8, 9])],
)
def test_truncate_policies(policy, expected):
    assert truncate(range(10), 5, policy) == expected
    assert truncate(range(3), 5, policy) == [0, 1, 2]
    assert truncate(range(10), None, policy) == list(range(10))


def test_batch_indices_cover_every_example_once_and_bucketing_cuts_padding():
    lengths = [((i * 37) % 100) + 1 for i in range(1000)]
    plain = batch_indices(lengths, 16, bucket=False, seed=3)
    bucketed = batch_indices(lengths, 16, bucket=True, seed=3)
    for batches in (plain, bucketed):
        assert sorted(i for b in batches for i in b) == list(range(1000))

    def padding(batches):
        return sum(
            max(lengths[i] for i in b) * len(b) - sum(lengths[i] for i in b) for b in batches
        )

    assert padding(bucketed) < padding(plain) / 10
    assert batch_indices(lengths, 16, seed=3) == bucketed  # seeded
    assert batch_indices(lengths, 16, seed=4) != bucketed
