"""The bad-input corpus's world (issue #26, "make it permanent"): tiny runs of every job and
data files, good and bad, that the cases in ``test_bad_input_corpus.py`` point at.

Placeholders in a case's arguments: ``{lm}``, ``{classify}``, ``{forecast}``, ``{tag}`` (run
directories, fresh copies for each case), ``{d}`` (the folder of data files below) and
``{out}`` (a path that does not exist yet, in a folder of its own).
"""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

FIXTURE_RUNS = Path(__file__).parent / "fixtures" / "runs-1838b87"

CONLL = """-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC
call NN I-NP O
. . O O

Peter NNP B-NP B-PER
Blackburn NNP I-NP I-PER
visited VBD B-VP O
Paris NNP B-NP B-LOC
. . O O
"""


def data_files(folder: Path) -> dict[str, Path]:
    """Writes the corpus's data files into ``folder``; returns them by name."""
    folder.mkdir(parents=True, exist_ok=True)
    good = FIXTURE_RUNS / "data"
    files: dict[str, bytes | str] = {
        "corpus.txt": (good / "corpus.txt").read_text(),
        "reviews.csv": (good / "reviews.csv").read_text(),
        "series.csv": (good / "series.csv").read_text(),
        "ner.conll": CONLL * 20,
        "empty.txt": "",
        "blank.txt": "\n\n   \n",
        "latin1.txt": "caf\xe9 au lait\n".encode("latin-1"),
        "binary.bin": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        "one-line.txt": "just one line\n",
        "no-label.csv": "review,stars\ngood film,5\n",
        "ragged.csv": "review,sentiment\ngood film,pos\nbad film\n",
        "one-class.csv": "review,sentiment\n" + "good film,pos\n" * 30,
        "unseen-label.csv": "review,sentiment\ngood film,pos\nso-so film,meh\n",
        "dup-header.csv": "review,sentiment,sentiment\ngood,pos,neg\n",
        "empty-label.csv": "review,sentiment\ngood film,\nbad film,neg\n" * 10,
        "unquoted.csv": 'review,sentiment\n"good film,pos\nbad,neg\n',
        "broken.jsonl": '{"text": "good", "label": "pos"}\n{"text": "bad", \n',
        "not-object.jsonl": '["good", "pos"]\n',
        "conll-3col.conll": "EU NNP B-ORG\nrejects VBZ\n",
        "conll-badtag.conll": "EU NNP B-NP X-ORG\n",
        "conll-empty-token.conll": "EU\tB-ORG\n\tO\n",
        "tags-mismatch.jsonl": '{"tokens": ["EU", "rejects"], "tags": ["B-ORG"]}\n',
        "series-text.csv": "time,value\n2020-01-01,1\n2020-01-02,high\n",
        "series-back.csv": "time,value\n2020-01-02,1\n2020-01-01,2\n",
        "series-baddate.csv": "time,value\n2020-01-01,1\nyesterday,2\n",
        "series-short.csv": "time,value\n2020-01-01,1\n2020-01-02,2\n",
        "series-nan.csv": "time,value\n" + "".join(f"2020-01-{d:02d},\n" for d in range(1, 29)),
        "vectors-lie.txt": "2 4\nthe 0.1 0.2 0.3\ncat 0.3 0.2 0.1\n",
        "vectors-nan.txt": "the 0.1 nan\ncat 0.3 0.2\n",
        "vectors-word.txt": "the 0.1 0.2\ncat 0.3 zero\n",
        "vectors-2d.txt": "the 0.1 0.2\ncat 0.3 0.2\ndog 0.5 0.5\n",
        "config-bad.toml": "[train\nlr = 1\n",
        "config-unknown.json": json.dumps({"train": {"learning_rate": 0.1}}),
        "config-type.json": json.dumps({"train": {"epochs": "many"}}),
        "config-list.json": "[1, 2]",
        "config-deep.json": "[" * 5000 + "]" * 5000,
        "config-latin1.json": '{"note": "caf\xe9"}'.encode("latin-1"),
        "inputs-bad.jsonl": '{"rows": [{"value": 1}]}\nnot json\n',
        "pairs.tsv": "a dog\tein hund\nthe cat\tdie katze\n" * 20,
        "pairs-short.tsv": "a dog\tein hund\nthe cat\n",
        "pairs-empty-side.tsv": "a dog\tein hund\n \tdie katze\n",
        "pairs-bad.jsonl": '{"src": "a dog", "tgt": "ein hund"}\n{"src": "the cat", "tgt": 3}\n',
        "src.en": "a dog\nthe cat\nred\n",
        "tgt.de": "ein hund\ndie katze\n",
        "tgt-latin1.de": "ein hund\ndie k\xe4tze\nrot\n".encode("latin-1"),
    }
    binary_lie = b"2 4\n" + b"".join(w + b" " + struct.pack("<3f", 1, 2, 3) for w in (b"a", b"b"))
    files["vectors-lie.bin"] = binary_lie
    paths = {}
    for name, content in files.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        paths[name] = path
    (folder / "a-folder").mkdir(exist_ok=True)
    return paths


def copy_runs(source: Path, target: Path) -> None:
    """Fresh copies of the tiny runs (cases may damage them) into ``target``."""
    for name in ("lm", "classify", "forecast", "tag", "translate"):
        shutil.copytree(source / name, target / name)
