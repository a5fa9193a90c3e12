"""rnnkit.training.tree: the one codec of checkpoints (optimizer state and carried state)."""

from __future__ import annotations

import json
import sys
from typing import NamedTuple

import pytest
import torch

from rnnkit.state import JordanState, LSTMState
from rnnkit.training.tree import (
    MalformedError,
    UnstorableError,
    decode,
    encode,
    flatten,
    plain_json,
    register_state_type,
    unflatten,
)


def test_every_kind_of_value_comes_back_exactly_through_json():
    value = {
        "state": {0: {"step": 3, "exp_avg": torch.arange(3.0)}},  # an optimizer's
        "groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0, 1]}],
        "carry": (LSTMState(torch.ones(1, 2, 3), torch.zeros(1, 2, 3)), None),
        "__tuple__": "a key that looks like a tag",
    }
    tensors: dict = {}
    spec = json.loads(json.dumps(encode(value, tensors)))  # plain JSON on the way
    assert sorted(tensors) == ["carry.0.0", "carry.0.1", "state.0.exp_avg"]
    used: set = set()
    back = decode(spec, tensors, used)
    assert used == set(tensors)
    assert back["groups"][0]["betas"] == (0.9, 0.999) and back["__tuple__"].startswith("a key")
    assert isinstance(back["carry"][0], LSTMState) and back["carry"][1] is None
    assert torch.equal(back["carry"][0].h, torch.ones(1, 2, 3))
    assert torch.equal(back["state"][0]["exp_avg"], torch.arange(3.0))
    assert decode(encode({"__dict__": 1}, None), {}) == {"__dict__": 1}


def test_what_has_no_json_form_is_named_by_its_key():
    with pytest.raises(UnstorableError) as info:
        encode({"a": [1, {2.5: "x"}]}, {})
    assert info.value.key == "a.1.2.5" and "dict key of type float" in info.value.what
    with pytest.raises(UnstorableError, match="plain JSON"):
        encode({"w": torch.ones(1)}, None)
    with pytest.raises(UnstorableError, match="a set"):
        plain_json({"s": {1}})
    with pytest.raises(MalformedError, match="not in the tensor file"):
        decode({"__tensor__": "gone"}, {})
    with pytest.raises(MalformedError, match="'rnnkit.state:State', which is not a state type"):
        decode({"__namedtuple__": ["rnnkit.state:State", []]}, {})


def test_a_carried_state_round_trips_and_the_format_of_rnnkit_0_1_reads():
    carry = [JordanState(torch.full((1, 2, 2), 7.0))]
    tensors, spec = flatten(carry, "carry")
    assert sorted(tensors) == ["carry.0.0"]
    assert torch.equal(unflatten(tensors, json.loads(json.dumps(spec)))[0].y, carry[0].y)
    # What rnnkit 0.1.0 (1838b87) wrote into progress.json for an LSTM language model's carry:
    old = {
        "namedtuple": "rnnkit.state:LSTMState",
        "items": [{"tensor": "carry.0"}, {"tensor": "carry.1"}],
    }
    saved = {"carry.0": torch.ones(2, 4, 8), "carry.1": torch.zeros(2, 4, 8)}
    state = unflatten(saved, old)
    assert isinstance(state, LSTMState) and state.h.shape == (2, 4, 8)
    assert unflatten({}, {"tuple": [None, {"list": []}]}) == (None, [])
    with pytest.raises(ValueError, match="'carry.9' is missing"):
        unflatten(saved, {"tensor": "carry.9"})
    with pytest.raises(TypeError, match="cannot store state.x in a checkpoint: it is a set"):
        flatten({"x": {1}})


def test_a_checkpoint_naming_a_module_imports_nothing(tmp_path, monkeypatch):
    # A module planted where Python looks (the working directory of `python -m rnnkit`):
    # importing it would leave a mark.
    mark = tmp_path / "imported"
    (tmp_path / "planted_state.py").write_text(
        f"open({str(mark)!r}, 'w').close()\nfrom rnnkit.state import LSTMState as State\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    names = ["planted_state:State", "this:x", "os:system", "rnnkit.state:LSTMState.x"]
    names += ["rnnkit.state:map_state", "collections:namedtuple", "rnnkit.state:NamedTuple"]
    for name in names:
        with pytest.raises(MalformedError, match="not a state type"):
            decode({"__namedtuple__": [name, []]}, {})
        with pytest.raises(ValueError, match="not a state type"):
            unflatten({}, {"namedtuple": name, "items": []})  # rnnkit 0.1.0's form too
    assert not mark.exists()
    assert "planted_state" not in sys.modules


class _OwnState(NamedTuple):
    h: torch.Tensor
    steps: int


def test_a_programs_own_state_type_is_stored_once_registered():
    value = _OwnState(torch.ones(2), 3)
    with pytest.raises(UnstorableError, match="not a registered state type") as info:
        encode({"carry": value}, {})
    assert info.value.key == "carry"
    assert register_state_type(_OwnState) is _OwnState
    tensors: dict = {}
    back = decode(json.loads(json.dumps(encode(value, tensors))), tensors)
    assert isinstance(back, _OwnState) and back.steps == 3 and torch.equal(back.h, value.h)
    with pytest.raises(TypeError, match="not a NamedTuple class"):
        register_state_type(tuple)
