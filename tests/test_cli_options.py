"""Flags generated from config dataclasses: names, merging order, clean errors."""

from __future__ import annotations

import dataclasses
import json

import click
import pytest
from click.testing import CliRunner

from rnnkit.cli.app import RnnkitGroup
from rnnkit.cli.options import build_config, config_options
from rnnkit.config import StackConfig, to_dict
from rnnkit.training.config import TrainConfig


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Job:
    """A job.

    Attributes:
        name: What to call it.
        train: How to train.
    """

    name: str = "job"
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)


@click.group(cls=RnnkitGroup)
@click.option("--debug", is_flag=True)
def _root(debug):
    pass


@_root.command("go")
@config_options(_Job)
def _go(**params):
    config = build_config(_Job, params)
    click.echo(json.dumps(to_dict(config)))


def _run(*args):
    return CliRunner().invoke(_root, ["go", *args])


def test_flags_are_the_field_names_and_help_comes_from_the_docstring():
    result = CliRunner().invoke(_root, ["go", "--help"])
    assert result.exit_code == 0
    for flag in ("--lr", "--clip-norm", "--nesterov / --no-nesterov", "--optimizer", "--name"):
        assert flag in result.output
    assert "Rescale the gradient when its global L2 norm" in result.output


def test_defaults_file_set_and_flags_merge_with_flags_winning(tmp_path):
    assert json.loads(_run().output)["train"] == to_dict(TrainConfig())
    toml = tmp_path / "run.toml"
    toml.write_text('name = "from-file"\n[train]\nlr = 0.5\nepochs = 3\noptimizer = "sgd"\n')
    result = _run(
        "--config", str(toml), "--lr", "0.25", "--set", "train.momentum=0.9", "--nesterov"
    )
    assert result.exit_code == 0, result.output
    config = json.loads(result.output)
    assert config["name"] == "from-file"
    assert config["train"]["lr"] == 0.25 and config["train"]["epochs"] == 3
    assert config["train"]["momentum"] == 0.9 and config["train"]["nesterov"] is True


def test_a_run_config_json_is_a_valid_config_file(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(to_dict(_Job(name="again", train=TrainConfig(lr=0.3)))))
    config = json.loads(_run("--config", str(path)).output)
    assert config["name"] == "again" and config["train"]["lr"] == 0.3


@pytest.mark.parametrize(
    "args,message",
    [
        (["--lr", "fast"], "train.lr: expected float"),
        (["--set", "train.lrr=1"], "train.lrr: unknown key (did you mean 'lr'?)"),
        (["--optimizer", "adagrad"], "Invalid value for '--optimizer'"),
        (["--clip-norm", "-1"], "clip_norm: expected a positive number"),
    ],
)
def test_bad_values_are_usage_errors_naming_the_field(args, message):
    result = _run(*args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_unknown_key_in_the_file_is_an_error(tmp_path):
    toml = tmp_path / "run.toml"
    toml.write_text("[train]\nlearning_rate = 0.1\n")
    result = _run("--config", str(toml))
    assert result.exit_code == 2 and "train.learning_rate: unknown key" in result.output
    toml.write_text("[train\n")
    result = _run("--config", str(toml))
    assert result.exit_code == 2 and "invalid TOML" in result.output


# --- nested configs that share field names ---------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Seq2SeqModel:
    """Attributes:
    encoder: The encoder's stack.
    decoder: The decoder's stack."""

    encoder: StackConfig = dataclasses.field(default_factory=lambda: StackConfig(hidden_size=4))
    decoder: StackConfig = dataclasses.field(default_factory=lambda: StackConfig(hidden_size=4))
    dropout: float = 0.0


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Seq2SeqRun:
    model: _Seq2SeqModel = dataclasses.field(default_factory=_Seq2SeqModel)


def test_repeated_field_names_get_flags_prefixed_by_their_path():
    @click.command()
    @config_options(_Seq2SeqRun)
    def cmd(**params):
        config = build_config(_Seq2SeqRun, params)
        click.echo(json.dumps(to_dict(config)))

    names = {opt for p in cmd.params for opt in p.opts}
    assert {"--encoder-hidden-size", "--decoder-hidden-size", "--encoder-cell"} <= names
    assert "--hidden-size" not in names
    assert "--model-dropout" in names and "--encoder-dropout" in names  # three "dropout"s
    result = CliRunner().invoke(
        cmd, ["--encoder-hidden-size", "8", "--decoder-cell", "gru", "--model-dropout", "0.1"]
    )
    assert result.exit_code == 0, result.output
    model = json.loads(result.output)["model"]
    assert model["encoder"]["hidden_size"] == 8 and model["decoder"]["hidden_size"] == 4
    assert model["decoder"]["cell"] == "gru" and model["dropout"] == 0.1
