"""Tests for rnnkit.config: strict dict/JSON round trips, dotted overrides, RecurrentConfig."""

# Postponed annotations on purpose: from_dict must resolve them with typing.get_type_hints.
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Literal

import pytest

from rnnkit.config import (
    ConfigError,
    RecurrentConfig,
    apply_overrides,
    from_dict,
    from_json,
    to_dict,
    to_json,
    validate_choice,
    validate_positive,
)


@dataclass(frozen=True)
class Optim:
    lr: float = 1e-3
    betas: tuple[float, ...] = (0.9, 0.999)
    schedule: Literal["constant", "cosine"] = "constant"


@dataclass(frozen=True)
class Run:
    model: RecurrentConfig
    optim: Optim = field(default_factory=Optim)
    name: str = "run"
    seed: int | None = None
    tags: tuple[str, ...] = ()
    window: tuple[int, str] = (1, "a")
    warm: Optim | None = None


def make_run() -> Run:
    model = RecurrentConfig(cell="gru", input_size=3, hidden_size=8, layer_norm=True)
    return Run(model=model, optim=Optim(lr=0.5, betas=(0.8, 0.9)), seed=7, tags=("a", "b"))


# --- round trips ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cfg",
    [
        RecurrentConfig(input_size=4, hidden_size=16),
        RecurrentConfig(cell="lstm", input_size=4, hidden_size=16, peephole=True, forget_bias=2),
        RecurrentConfig(cell="elman", input_size=1, hidden_size=2, identity_init=True),
        RecurrentConfig(
            cell="jordan",
            input_size=5,
            hidden_size=6,
            output_size=3,
            feedback="both",
            output_activation="softmax",
            num_layers=2,
            dropout=0.25,
            bidirectional=True,
        ),
    ],
)
def test_recurrent_config_round_trips(cfg: RecurrentConfig) -> None:
    assert from_dict(RecurrentConfig, to_dict(cfg)) == cfg
    assert from_json(RecurrentConfig, to_json(cfg)) == cfg


def test_nested_round_trip_dict_and_json() -> None:
    run = make_run()
    data = to_dict(run)
    assert data["model"]["cell"] == "gru"
    assert data["optim"] == {"lr": 0.5, "betas": [0.8, 0.9], "schedule": "constant"}
    assert data["tags"] == ["a", "b"]  # tuples become lists (JSON-ready)
    assert from_dict(Run, data) == run
    assert from_json(Run, to_json(run)) == run
    assert from_json(Run, to_json(run)).tags == ("a", "b")  # and lists become tuples again


def test_to_json_keeps_field_order_and_indent() -> None:
    text = to_json(RecurrentConfig(input_size=2, hidden_size=3))
    assert list(json.loads(text)) == [f.name for f in dataclasses.fields(RecurrentConfig)]
    assert text.splitlines()[1] == '  "cell": "lstm",'


def test_to_dict_is_a_copy() -> None:
    run = make_run()
    data = to_dict(run)
    data["model"]["hidden_size"] = 99
    assert run.model.hidden_size == 8


def test_from_dict_fills_defaults_and_converts_int_to_float() -> None:
    cfg = from_dict(RecurrentConfig, {"input_size": 2, "hidden_size": 3, "forget_bias": 2})
    assert cfg.forget_bias == 2.0 and isinstance(cfg.forget_bias, float)
    assert cfg.cell == "lstm" and cfg.num_layers == 1


def test_direct_construction_normalizes_int_to_float() -> None:
    assert isinstance(RecurrentConfig(input_size=1, hidden_size=1, dropout=0).dropout, float)


# --- strict from_dict errors ----------------------------------------------------------------


def test_unknown_key_suggests_closest_and_lists_valid_keys() -> None:
    with pytest.raises(ConfigError) as info:
        from_dict(Run, {"model": {"input_size": 1, "hiden_size": 2}})
    message = str(info.value)
    assert message.startswith("model.hiden_size: unknown key")
    assert "did you mean 'hidden_size'?" in message
    assert "valid keys: cell, input_size, hidden_size" in message


def test_unknown_key_without_close_match_lists_valid_keys() -> None:
    with pytest.raises(ConfigError, match=r"^zzz: unknown key; valid keys: model, optim"):
        from_dict(Run, {"model": {"input_size": 1, "hidden_size": 2}, "zzz": 1})


def test_missing_required_key() -> None:
    with pytest.raises(
        ConfigError, match=r"^model\.hidden_size: missing required key \(expected int\)"
    ):
        from_dict(Run, {"model": {"input_size": 1}})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"input_size": "64"}, "model.input_size: expected int, got '64' (str)"),
        ({"input_size": 2.0}, "model.input_size: expected int, got 2.0 (float)"),
        ({"input_size": True}, "model.input_size: expected int, got True (bool)"),
        ({"bidirectional": 1}, "model.bidirectional: expected bool, got 1 (int)"),
        ({"dropout": "0.1"}, "model.dropout: expected float, got '0.1' (str)"),
        ({"output_size": "x"}, "model.output_size: expected int or None, got 'x' (str)"),
    ],
)
def test_wrong_type_names_path_expected_and_got(data: dict, message: str) -> None:
    model = {"input_size": 1, "hidden_size": 2, **data}
    with pytest.raises(ConfigError) as info:
        from_dict(Run, {"model": model})
    assert str(info.value) == message
    assert info.value.key == message.split(":")[0]


def test_literal_error_lists_allowed_values() -> None:
    with pytest.raises(ConfigError) as info:
        from_dict(RecurrentConfig, {"cell": "lstn", "input_size": 1, "hidden_size": 2})
    assert str(info.value) == (
        "cell: expected one of 'elman', 'jordan', 'lstm', 'gru', got 'lstn' (str)"
        " (did you mean 'lstm'?)"
    )


def test_tuple_errors_name_the_item() -> None:
    with pytest.raises(ConfigError, match=r"^optim\.betas\[1\]: expected float, got 'x'"):
        from_dict(Run, {"model": {"input_size": 1, "hidden_size": 2}, "optim": {"betas": [1, "x"]}})
    with pytest.raises(ConfigError, match=r"^tags: expected a list of str, got 'ab' \(str\)"):
        from_dict(Run, {"model": {"input_size": 1, "hidden_size": 2}, "tags": "ab"})
    with pytest.raises(ConfigError, match=r"^window: expected a list of 2 items"):
        from_dict(Run, {"model": {"input_size": 1, "hidden_size": 2}, "window": [1]})


def test_nested_value_must_be_a_mapping() -> None:
    with pytest.raises(ConfigError, match=r"^model: expected a mapping for RecurrentConfig, got 3"):
        from_dict(Run, {"model": 3})


def test_post_init_errors_get_the_nested_path() -> None:
    with pytest.raises(
        ConfigError, match=r"^model\.hidden_size: expected a positive number, got 0"
    ):
        from_dict(Run, {"model": {"input_size": 1, "hidden_size": 0}})


def test_from_json_reports_line_and_column() -> None:
    with pytest.raises(ConfigError, match=r"^invalid JSON at line 3, column 18: "):
        from_json(RecurrentConfig, '{\n  "input_size": 1,\n  "hidden_size": ,\n}')


def test_from_json_rejects_duplicate_keys_and_non_objects() -> None:
    with pytest.raises(ConfigError, match=r"^input_size: duplicate key"):
        from_json(RecurrentConfig, '{"input_size": 1, "input_size": 2, "hidden_size": 3}')
    with pytest.raises(ConfigError, match=r"^expected a mapping for RecurrentConfig, got \[1\]"):
        from_json(RecurrentConfig, "[1]")


def test_to_json_rejects_nan() -> None:
    run = dataclasses.replace(make_run(), optim=Optim(lr=float("nan")))
    with pytest.raises(ConfigError, match="cannot encode config as JSON"):
        to_json(run)


# --- overrides ------------------------------------------------------------------------------


def test_overrides_parse_each_field_type() -> None:
    run = apply_overrides(
        make_run(),
        [
            "model.hidden_size=32",  # int, nested
            "optim.lr=1e-2",  # float
            "model.bidirectional=YES",  # bool, case-insensitive
            "seed=null",  # optional -> None
            "tags=x, y ,z",  # tuple[str, ...], items stripped
            "optim.betas=[0.5, 0.6]",  # tuple[float, ...], brackets allowed
            "optim.schedule=cosine",  # Literal
            "window=3,b",  # fixed tuple
            "name= spaced name",  # str, verbatim
        ],
    )
    assert run.model.hidden_size == 32
    assert run.optim.lr == 0.01
    assert run.model.bidirectional is True
    assert run.seed is None
    assert run.tags == ("x", "y", "z")
    assert run.optim.betas == (0.5, 0.6)
    assert run.optim.schedule == "cosine"
    assert run.window == (3, "b")
    assert run.name == " spaced name"


@pytest.mark.parametrize(
    ("word", "expected"),
    [("true", True), ("False", False), ("1", True), ("0", False), ("yes", True), ("NO", False)],
)
def test_override_bool_words(word: str, expected: bool) -> None:
    cfg = apply_overrides(RecurrentConfig(input_size=1, hidden_size=1), [f"bidirectional={word}"])
    assert cfg.bidirectional is expected


def test_override_optional_int_and_empty_tuple() -> None:
    run = apply_overrides(make_run(), ["seed=none", "seed=5", "tags="])
    assert run.seed == 5
    assert run.tags == ()


def test_override_float_field_accepts_int_text() -> None:
    run = apply_overrides(make_run(), ["optim.lr=1"])
    assert run.optim.lr == 1.0 and isinstance(run.optim.lr, float)


def test_override_creates_unset_optional_nested_config() -> None:
    run = apply_overrides(make_run(), ["warm.lr=0.1"])
    assert run.warm == Optim(lr=0.1)


def test_overrides_return_new_instance_and_leave_original() -> None:
    run = make_run()
    new = apply_overrides(run, ["model.num_layers=3"])
    assert new.model.num_layers == 3
    assert run.model.num_layers == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        new.name = "x"  # type: ignore[misc]


def test_overrides_are_validated_together_not_one_by_one() -> None:
    cfg = RecurrentConfig(input_size=1, hidden_size=1, peephole=True)
    new = apply_overrides(cfg, ["cell=gru", "peephole=false"])
    assert new.cell == "gru" and new.peephole is False


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("model.hidden_size=abc", r"^model\.hidden_size: expected int, got 'abc' \(str\)$"),
        ("model.hidden_size=1.5", r"^model\.hidden_size: expected int, got '1\.5'"),
        ("optim.lr=fast", r"^optim\.lr: expected float, got 'fast'"),
        ("model.bidirectional=maybe", r"^model\.bidirectional: expected bool \(true/false"),
        ("model.hidden_size=none", r"^model\.hidden_size: expected int, got 'none'"),
        ("model.cell=lstn", r"^model\.cell: expected one of 'elman', .* \(did you mean 'lstm'\?\)"),
        ("optim.betas=0.1,x", r"^optim\.betas\[1\]: expected float, got 'x'"),
        ("window=1,2,3", r"^window: expected a list of 2 items"),
        ("model.hiden_size=3", r"^model\.hiden_size: unknown key \(did you mean 'hidden_size'\?\)"),
        ("modle.cell=gru", r"^modle: unknown key \(did you mean 'model'\?\)"),
        ("model.hidden_size.x=3", r"^model\.hidden_size: is int, not a nested config"),
        ("model=x", r"^model: is a nested config; override its fields"),
        ("model.hidden_size", r"^malformed override 'model\.hidden_size': expected 'dotted\.key"),
        ("=3", r"^malformed override"),
        ("model..cell=gru", r"^malformed override"),
        ("model.hidden_size=0", r"^model\.hidden_size: expected a positive number, got 0"),
        ("model.peephole=true", r"^model\.peephole: applies only to cell='lstm', got cell='gru'"),
    ],
)
def test_override_errors(override: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        apply_overrides(make_run(), [override])


def test_overrides_must_be_an_iterable_of_strings() -> None:
    with pytest.raises(ConfigError, match=r"^overrides: expected an iterable"):
        apply_overrides(make_run(), "seed=1")


# --- RecurrentConfig validation -------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"input_size": 0}, r"^input_size: expected a positive number, got 0 \(int\)$"),
        ({"hidden_size": -3}, r"^hidden_size: expected a positive number, got -3"),
        ({"hidden_size": 2.0}, r"^hidden_size: expected int, got 2\.0 \(float\)$"),
        ({"num_layers": 0}, r"^num_layers: expected a positive number, got 0"),
        ({"dropout": 1.0}, r"^dropout: expected a float in \[0, 1\), got 1\.0"),
        ({"dropout": -0.1}, r"^dropout: expected a float in \[0, 1\), got -0\.1"),
        ({"recurrent_dropout": 1.5}, r"^recurrent_dropout: expected a float in \[0, 1\)"),
        ({"bidirectional": 1}, r"^bidirectional: expected bool, got 1 \(int\)$"),
        ({"cell": "rnn"}, r"^cell: expected one of 'elman', 'jordan', 'lstm', 'gru', got 'rnn'"),
        (
            {"cell": "gru", "peephole": True},
            r"^peephole: applies only to cell='lstm', got cell='gru'$",
        ),
        ({"cell": "gru", "forget_bias": 0.0}, r"^forget_bias: applies only to cell='lstm'"),
        ({"cell": "lstm", "identity_init": True}, r"^identity_init: applies only to cell='elman',"),
        (
            {"cell": "jordan", "identity_init": True},
            r"^identity_init: applies only to cell='elman'",
        ),
        (
            {"cell": "elman", "layer_norm": True},
            r"^layer_norm: applies only to cell='lstm' or cell='gru', got cell='elman'$",
        ),
        (
            {"cell": "lstm", "nonlinearity": "relu"},
            r"^nonlinearity: applies only to cell='elman' or",
        ),
        ({"cell": "gru", "output_size": 3}, r"^output_size: applies only to cell='jordan'"),
        ({"cell": "elman", "feedback": "both"}, r"^feedback: applies only to cell='jordan'"),
        ({"cell": "lstm", "output_activation": "sigmoid"}, r"^output_activation: applies only"),
        ({"cell": "jordan", "output_size": 0}, r"^output_size: expected a positive number, got 0"),
        ({"cell": "jordan", "feedback": "input"}, r"^feedback: expected one of 'hidden', 'output'"),
    ],
)
def test_recurrent_config_validation(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        RecurrentConfig(**{"input_size": 2, "hidden_size": 3, **kwargs})


def test_config_error_is_a_value_error_with_key() -> None:
    with pytest.raises(ValueError) as info:
        RecurrentConfig(input_size=2, hidden_size=3, dropout=2.0)
    assert isinstance(info.value, ConfigError)
    assert info.value.key == "dropout"


def test_recurrent_config_is_keyword_only_and_frozen() -> None:
    with pytest.raises(TypeError):
        RecurrentConfig("lstm", 2, 3)  # type: ignore[misc]
    cfg = RecurrentConfig(input_size=2, hidden_size=3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.hidden_size = 4  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "options"),
    [
        ({"cell": "lstm"}, {"peephole": False, "layer_norm": False, "forget_bias": 1.0}),
        ({"cell": "gru", "layer_norm": True}, {"layer_norm": True}),
        (
            {"cell": "elman", "nonlinearity": "relu", "identity_init": True},
            {"nonlinearity": "relu", "identity_init": True},
        ),
        (
            {"cell": "jordan"},
            {
                "nonlinearity": "tanh",
                "output_size": 3,
                "feedback": "hidden",
                "output_activation": "tanh",
            },
        ),
        (
            {"cell": "jordan", "output_size": 5, "feedback": "output"},
            {
                "nonlinearity": "tanh",
                "output_size": 5,
                "feedback": "output",
                "output_activation": "tanh",
            },
        ),
    ],
)
def test_cell_options(kwargs: dict, options: dict) -> None:
    cfg = RecurrentConfig(input_size=2, hidden_size=3, **kwargs)
    assert cfg.cell_options() == options
    assert list(cfg.cell_options()) == list(options)


# --- validation helpers ---------------------------------------------------------------------


def test_validate_choice() -> None:
    assert validate_choice("mode", "b", ("a", "b")) == "b"
    with pytest.raises(ConfigError, match=r"^mode: expected one of 'a', 'b', got 'c' \(str\)$"):
        validate_choice("mode", "c", ("a", "b"))
    with pytest.raises(ConfigError, match=r"^k: expected one of 1, 2, got True \(bool\)$"):
        validate_choice("k", True, (1, 2))


@pytest.mark.parametrize("value", [0, -1, 0.0, float("nan"), True, "3", None])
def test_validate_positive_rejects(value: object) -> None:
    with pytest.raises(ConfigError, match=r"^lr: expected a positive number, got "):
        validate_positive("lr", value)  # type: ignore[arg-type]


def test_validate_positive_accepts() -> None:
    assert validate_positive("lr", 0.5) == 0.5
    assert validate_positive("size", 3) == 3
