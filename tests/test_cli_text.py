"""``rnnkit text preprocess`` shows each stage; its flags are TextConfig's fields."""

from __future__ import annotations

import json

from click.testing import CliRunner

from rnnkit.cli import main


def test_preprocess_shows_every_stage():
    result = CliRunner().invoke(
        main, ["text", "preprocess", "I didn't like it.<br />See ２ films", "--stopwords"]
    )
    assert result.exit_code == 0, result.output
    lines = dict(line.split(maxsplit=1) for line in result.output.splitlines() if line.strip())
    assert lines["html"] == '"I didn\'t like it. See ２ films"'
    assert lines["normalize"] == '"I didn\'t like it. See 2 films"'
    assert lines["tokenize"] == "i did n't like it . see 2 films"
    assert lines["stopwords"] == "n't like . 2 films"  # the negation survives


def test_preprocess_json_and_bad_flags():
    result = CliRunner().invoke(
        main, ["text", "preprocess", "Cats ran", "--stem", "porter", "--json"]
    )
    records = [json.loads(line) for line in result.output.splitlines()]
    assert records[0]["tokens"] == ["cat", "ran"] and records[-1] == {"type": "summary", "texts": 1}
    both = CliRunner().invoke(main, ["text", "preprocess", "x", "--stem", "porter", "--lemmatize"])
    assert both.exit_code == 2 and "error:" in both.output
