"""``rnnkit diagnose``: measurements of recurrent networks (``diagnose gradients``, ...)."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import click

from rnnkit.cli.diagnose_memory import memory
from rnnkit.config import ConfigError, validate_positive

if TYPE_CHECKING:
    from rnnkit.diagnostics.gradient_flow import GradientFlow

# Lags shown in the table (those below T, then the last one, T - 1).
TABLE_LAGS = (0, 10, 25, 50, 100, 200, 500, 1000)


def _flow_lib() -> ModuleType:
    """Imported on use: torch takes ~2 s to load, and ``rnnkit diagnose --help`` needs none."""
    from rnnkit.diagnostics import gradient_flow

    return gradient_flow


@click.group("diagnose")
def diagnose() -> None:
    """Measure what a recurrent network does with time: gradient flow, long memory."""


diagnose.add_command(memory)


@diagnose.command("gradients")
@click.option(
    "--cell",
    "cells",
    metavar="NAMES",
    help="Comma-separated cells: elman (tanh), elman-relu, irnn (ReLU with W_hh = I), jordan, "
    "lstm, gru. Default: elman, irnn, jordan, lstm, gru.",
)
@click.option(
    "--run",
    type=click.Path(path_type=Path),
    help="A trained lm or classify run: its own stack on its own validation/test data.",
)
@click.option("--length", type=int, required=True, help="T, steps per sequence (>= 2).")
@click.option("--hidden-size", type=int, default=64, show_default=True, help="Fresh cells.")
@click.option("--batch", type=int, default=32, show_default=True, help="Sequences per batch.")
@click.option("--repeats", type=int, default=4, show_default=True, help="Batches.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--plot", type=click.Path(path_type=Path), help="Write a log-scale PNG here.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per cell.")
@click.pass_context
def gradients(
    ctx: click.Context,
    cells: str | None,
    run: Path | None,
    length: int,
    hidden_size: int,
    batch: int,
    repeats: int,
    seed: int,
    plot: Path | None,
    as_json: bool,
) -> None:
    """How far back a loss at the last step reaches: ‖∂E_T/∂h_t‖ against the lag T - t.

    E_T is a fixed random unit projection of the last output; g is averaged over
    batch x repeats sequences (with its 10-90% spread), computed by torch autograd and by the
    NumPy reference engine (column ref-err: their largest relative difference). rate is the
    fitted factor per step; the verdict says whether the signal falls below 1e-3 (vanishing)
    or grows above 1e3 (exploding) of its value at the last step within T steps.
    """
    lib = _flow_lib()
    if run is not None:
        given = [
            flag
            for flag, name in (("--cell", "cells"), ("--hidden-size", "hidden_size"))
            if ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE
        ]
        if given:
            raise click.UsageError(f"--run measures the run's own model; drop {', '.join(given)}")
        flows = [_measure_run(run, length, batch, repeats, seed)]
        header = f"T={length}, {flows[0].sequences} sequences of {flows[0].inputs}, seed {seed}"
        _report(flows, header, as_json)
    else:
        names = [c.strip() for c in cells.split(",")] if cells else list(lib.DEFAULT_CELLS)
        for name in names:  # every name checked before any work
            lib.cell_config(name, input_size=hidden_size, hidden_size=hidden_size)
        header = (
            f"T={length}, hidden {hidden_size}, {batch * repeats} sequences of standard "
            f"normal inputs, seed {seed}"
        )
        flows = _report(
            (
                lib.measure_cell(
                    name,
                    length=length,
                    hidden_size=hidden_size,
                    batch=batch,
                    repeats=repeats,
                    seed=seed,
                )
                for name in names
            ),
            header,
            as_json,
        )
    if plot is not None:
        lib.plot_gradient_flow(flows, plot, title=f"gradient flow through time\n{header}")
        if not as_json:
            click.echo(f"plot: {plot}")


def _report(flows: Any, header: str, as_json: bool) -> list[GradientFlow]:
    """Echo each flow as it comes (a table row, or a JSON line); return them all."""
    done: list[GradientFlow] = []
    for flow in flows:
        if as_json:
            click.echo(json.dumps({"type": "gradients", **flow.to_dict()}))
        else:
            if not done:
                click.echo(f"gradient flow ‖∂E_T/∂h_t‖ by lag k = T - t ({header})")
                click.echo(_row_header(flow.length, width=max(12, len(flow.name))))
            click.echo(_row(flow, width=max(12, len(flow.name))))
        done.append(flow)
    return done


def _lags(length: int) -> list[int]:
    lags = [k for k in TABLE_LAGS if k < length]
    return lags if lags[-1] == length - 1 else [*lags, length - 1]


def _row_header(length: int, width: int) -> str:
    cells = [f"{'cell':{width}s}", f"{'rate/step':>9s}", f"{'verdict':9s}", f"{'lag@1e-3':>8s}"]
    cells += [f"{f'g@{k}':>8s}" for k in _lags(length)]
    cells.append(f"{'ref-err':>7s}")
    return "  ".join(cells)


def _row(flow: GradientFlow, width: int) -> str:
    lag = "-" if flow.vanish_lag is None else str(flow.vanish_lag)
    cells = [f"{flow.name:{width}s}", f"{flow.rate:9.4f}", f"{flow.verdict:9s}", f"{lag:>8s}"]
    cells += [f"{flow.at(k):8.1e}" for k in _lags(flow.length)]
    error = "-" if flow.reference_error is None else f"{flow.reference_error:.0e}"
    cells.append(f"{error:>7s}")
    return "  ".join(cells)


# ---- a trained run --------------------------------------------------------------------------


def _measure_run(path: Path, length: int, batch: int, repeats: int, seed: int) -> GradientFlow:
    """The run's stack on windows of its own data (see :func:`_run_inputs`)."""
    import rnnkit

    lib = _flow_lib()
    if isinstance(length, bool) or length < 2:
        raise ConfigError(f"expected an int of at least 2 steps, got {length!r}", key="length")
    validate_positive("batch", batch)
    validate_positive("repeats", repeats)
    task = rnnkit.load(path)
    stack = lib.model_stack(task.model)
    if stack.config.bidirectional:
        raise ConfigError(
            "gradient flow needs a unidirectional stack: the backward direction of a "
            "bidirectional one never sees a loss at the last step",
            key="run",
        )
    raw, inputs = _run_inputs(task, length, batch * repeats, seed)
    x = lib.embed(task.model, raw)
    layers = f" x{stack.num_layers}" if stack.num_layers > 1 else ""
    name = f"{stack.config.cell}{layers} ({path.name})"
    return lib.measure(stack, x, name=name, seed=seed, inputs=inputs)


def _run_inputs(task: Any, length: int, count: int, seed: int) -> tuple[Any, str]:
    """Up to ``count`` model inputs of ``length`` steps from the run's own data, and what
    they are.

    lm: windows at random places of the validation text (token ids (N, T)). classify: the
    first ``length`` steps of test examples at least that long (validation examples when the
    run has no test split), token ids (N, T) or scaled features (N, T, F).
    """
    import numpy as np
    import torch

    rng = np.random.default_rng(seed)
    kind = getattr(task.config, "task", None)
    if kind == "lm":
        from rnnkit.tasks.lm import split_text

        ids = task.encode(split_text(task.config, "valid"))
        if len(ids) < length:
            raise ConfigError(
                f"the validation text has {len(ids)} tokens, fewer than {length}", key="length"
            )
        starts = rng.integers(0, len(ids) - length + 1, size=count)
        windows = [ids[s : s + length] for s in starts]
        return torch.tensor(windows, dtype=torch.long), "validation text windows"
    if kind == "classify":
        return _classify_inputs(task, length, count, rng)
    raise ConfigError(f"gradient flow supports lm and classify runs, got a {kind!r} run", key="run")


def _classify_inputs(task: Any, length: int, count: int, rng: Any) -> tuple[Any, str]:
    import numpy as np
    import torch

    from rnnkit.tasks.classify import data as cdata

    try:
        examples, split = task.load_examples(), "test"
    except ConfigError:  # no test split: the validation examples
        examples, split = cdata.load_splits(task.config.data, task.config.train.seed)[1], "valid"
    order = rng.permutation(len(examples.inputs))
    chosen: list[Any] = []
    longest = 0
    # Encoded a chunk at a time: a test set of 25,000 reviews need not be tokenized whole.
    for start in range(0, len(order), 4 * count):
        picked = [examples.inputs[i] for i in order[start : start + 4 * count]]
        for encoded in task.encode(picked):
            longest = max(longest, len(encoded))
            if len(encoded) >= length:
                chosen.append(encoded[:length])
        if len(chosen) >= count:
            break
    if not chosen:
        raise ConfigError(
            f"no {split} example has {length} steps after encoding (longest: {longest}); "
            f"use --length {longest} or less",
            key="length",
        )
    chosen = chosen[:count]
    if task.inputs == "numeric":
        x = torch.from_numpy(np.stack([np.asarray(a, dtype=np.float32) for a in chosen]))
    else:
        x = torch.tensor(chosen, dtype=torch.long)
    return x, f"{split} examples"
