"""rnnkit.tasks.classify.metrics: golden values computed by hand, validation, text table, PNG."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from rnnkit.config import ConfigError
from rnnkit.tasks.classify.metrics import (
    ClassificationReport,
    ClassScore,
    classification_report,
    plot_confusion,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# 3 classes, 6 examples. Confusion (rows true, columns predicted):
#   cat  [1, 1, 0]   cat : P = 1/2 (predicted twice), R = 1/2, F1 = 1/2
#   dog  [0, 2, 0]   dog : P = 2/3 (predicted 3 times), R = 2/2, F1 = 2*(2/3)/(5/3) = 4/5
#   bird [1, 0, 1]   bird: P = 1/1, R = 1/2, F1 = 2*(1/2)/(3/2) = 2/3
# accuracy = 4/6; macro-F1 = (1/2 + 4/5 + 2/3) / 3 = 59/90
LABELS = ["cat", "dog", "bird"]
Y_TRUE = [0, 0, 1, 1, 2, 2]
Y_PRED = [0, 1, 1, 1, 2, 0]


@pytest.fixture
def report() -> ClassificationReport:
    return classification_report(Y_TRUE, Y_PRED, LABELS)


def test_three_classes_hand_computed(report):
    assert report.labels == ("cat", "dog", "bird")
    assert report.count == 6
    assert report.accuracy == pytest.approx(4 / 6)
    assert report.confusion == ((1, 1, 0), (0, 2, 0), (1, 0, 1))
    expected = [
        ("cat", 1 / 2, 1 / 2, 1 / 2, 2),
        ("dog", 2 / 3, 1.0, 4 / 5, 2),
        ("bird", 1.0, 1 / 2, 2 / 3, 2),
    ]
    assert len(report.per_class) == 3
    for score, (label, precision, recall, f1, support) in zip(
        report.per_class, expected, strict=True
    ):
        assert isinstance(score, ClassScore)
        assert score.label == label
        assert score.precision == pytest.approx(precision)
        assert score.recall == pytest.approx(recall)
        assert score.f1 == pytest.approx(f1)
        assert score.support == support
    assert report.macro_f1 == pytest.approx(59 / 90)


def test_plain_python_types(report):
    assert type(report.accuracy) is float and type(report.macro_f1) is float
    for score in report.per_class:
        assert type(score.precision) is float and type(score.support) is int
    assert all(type(c) is int for row in report.confusion for c in row)


def test_binary_hand_computed():
    # Confusion [[2, 1], [1, 1]]: neg P = R = F1 = 2/3; pos P = R = F1 = 1/2.
    r = classification_report([0, 0, 0, 1, 1], [0, 1, 0, 1, 0], ["neg", "pos"])
    assert r.confusion == ((2, 1), (1, 1))
    assert r.accuracy == pytest.approx(3 / 5)
    assert [s.f1 for s in r.per_class] == pytest.approx([2 / 3, 1 / 2])
    assert [s.precision for s in r.per_class] == pytest.approx([2 / 3, 1 / 2])
    assert [s.support for s in r.per_class] == [3, 2]
    assert r.macro_f1 == pytest.approx(7 / 12)


def test_class_that_never_occurs_is_listed_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # sklearn's UndefinedMetricWarning would fail the test
        r = classification_report(Y_TRUE, Y_PRED, [*LABELS, "fish"])
    fish = r.per_class[3]
    assert fish == ClassScore("fish", 0.0, 0.0, 0.0, 0)
    assert r.confusion[3] == (0, 0, 0, 0)
    assert [row[3] for row in r.confusion] == [0, 0, 0, 0]
    # Neither true nor predicted: left out of macro-F1, which stays that of the 3 classes.
    assert r.macro_f1 == pytest.approx(59 / 90)
    assert r.accuracy == pytest.approx(4 / 6)


def test_class_predicted_but_never_true_counts_in_macro_f1():
    # "c" is predicted once, never true: precision 0 (one false positive), recall 0 (no
    # examples), F1 0, and it counts in macro-F1. "a": P = R = F1 = 1; "b": P = 1, R = 1/2,
    # F1 = 2/3. macro-F1 = (1 + 2/3 + 0) / 3 = 5/9.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = classification_report([0, 1, 1], [0, 1, 2], ["a", "b", "c"])
    assert r.per_class[2] == ClassScore("c", 0.0, 0.0, 0.0, 0)
    assert r.macro_f1 == pytest.approx(5 / 9)


def test_macro_f1_matches_sklearn_default():
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 5, size=200)
    y_pred = np.where(rng.random(200) < 0.6, y_true, rng.integers(0, 5, size=200))
    r = classification_report(y_true, y_pred, list("abcdefg"))  # f, g never occur
    assert r.macro_f1 == pytest.approx(f1_score(y_true, y_pred, average="macro"))
    assert r.accuracy == pytest.approx(float(np.mean(y_true == y_pred)))
    assert np.array_equal(
        np.diag(r.confusion), [np.sum((y_true == k) & (y_pred == k)) for k in range(7)]
    )


def test_single_label():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = classification_report([0, 0], [0, 0], ["only"])
    assert r.confusion == ((2,),)
    assert r.accuracy == 1.0 and r.macro_f1 == 1.0
    assert r.per_class == (ClassScore("only", 1.0, 1.0, 1.0, 2),)


def test_accepts_numpy_and_torch_indices():
    torch = pytest.importorskip("torch")
    expected = classification_report(Y_TRUE, Y_PRED, LABELS)
    assert classification_report(np.array(Y_TRUE), np.array(Y_PRED), LABELS) == expected
    assert classification_report(torch.tensor(Y_TRUE), torch.tensor(Y_PRED), LABELS) == expected


def test_to_dict_json_round_trip(report):
    d = report.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["labels"] == LABELS
    assert d["count"] == 6
    assert d["accuracy"] == pytest.approx(4 / 6)
    assert d["macro_f1"] == pytest.approx(59 / 90)
    assert d["confusion"] == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert d["per_class"][1] == {
        "label": "dog",
        "precision": pytest.approx(2 / 3),
        "recall": 1.0,
        "f1": pytest.approx(0.8),
        "support": 2,
    }


def test_format_contains_labels_and_numbers(report):
    text = report.format()
    lines = text.splitlines()
    assert lines[0] == "accuracy  0.6667  (4 of 6 correct)"
    assert lines[1] == "macro-F1  0.6556"
    assert "dog       0.6667  1.0000  0.8000        2" in lines
    assert "bird      1.0000  0.5000  0.6667        2" in lines
    i = lines.index("confusion matrix (rows: true, columns: predicted)")
    assert lines[i + 1].split() == ["true", "\\", "predicted", "cat", "dog", "bird"]
    assert [line.split() for line in lines[i + 2 :]] == [
        ["cat", "1", "1", "0"],
        ["dog", "0", "2", "0"],
        ["bird", "1", "0", "1"],
    ]


def test_format_aligns_columns_for_long_labels():
    labels = ["a", "a-very-long-label-name", "mid-size"]
    text = classification_report([0, 1, 2, 1], [0, 1, 1, 1], labels).format()
    lines = text.splitlines()
    start = lines.index("confusion matrix (rows: true, columns: predicted)")
    scores, confusion = lines[3 : start - 1], lines[start + 1 :]
    for block in (scores, confusion):
        assert len({len(line) for line in block}) == 1, block  # right-aligned: equal widths
    # Every count ends in the same column as its predicted label's header.
    header = confusion[0]
    for j, label in enumerate(labels):
        end = header.index(f" {label}") + 1 + len(label)
        for row, r in zip(confusion[1:], ((1, 0, 0), (0, 2, 0), (0, 1, 0)), strict=True):
            assert row[end - 1] == str(r[j])
            assert end == len(row) or row[end] == " "


@pytest.mark.parametrize(
    ("y_true", "y_pred", "labels", "key", "fragment"),
    [
        ([0, 1, 2], [0, 1], LABELS, "y_pred", "same length as y_true (3), got 2"),
        ([0, 1], [0, 1, 2], LABELS, "y_pred", "same length as y_true (2), got 3"),
        ([0, 5], [0, 1], LABELS, "y_true[1]", "class index in [0, 3), got 5"),
        ([0, 1], [0, -1], LABELS, "y_pred[1]", "class index in [0, 3), got -1"),
        ([], [], LABELS, "y_true", "at least 1 class index, got none"),
        ([0], [], LABELS, "y_pred", "at least 1 class index, got none"),
        ([0, 1], [0, 1], [], "labels", "at least 1 label, got none"),
        ([0.0, 1.0], [0, 1], LABELS, "y_true", "integer class indices, got dtype float64"),
        ([True, False], [0, 1], LABELS, "y_true", "integer class indices, got dtype bool"),
        ([[0, 1]], [0, 1], LABELS, "y_true", "1-D sequence of class indices, got shape (1, 2)"),
        ([0, 1], [0, 1], ["a", "b", "a"], "labels", "distinct labels, got 'a' more than once"),
        ([0, 1], [0, 1], "ab", "labels", "sequence of str, got str"),
        ([0, 1], [0, 1], ["a", 2], "labels[1]", "expected str, got 2 (int)"),
    ],
)
def test_validation_errors(y_true, y_pred, labels, key, fragment):
    with pytest.raises(ConfigError) as info:
        classification_report(y_true, y_pred, labels)
    assert info.value.key == key
    assert fragment in str(info.value)
    assert str(info.value).startswith(f"{key}: ")


def test_plot_confusion_writes_png_atomically(report, tmp_path):
    path = plot_confusion(report, tmp_path / "confusion.png")
    assert path == tmp_path / "confusion.png"
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert len(data) > 1000
    assert [p.name for p in tmp_path.iterdir()] == ["confusion.png"]  # no temp files left


def test_plot_confusion_many_long_labels_and_empty_row(tmp_path):
    labels = [f"class-with-a-long-name-{k}" for k in range(12)]
    r = classification_report([0, 1, 2, 3], [0, 1, 1, 11], labels)  # rows 4..11 have no examples
    data = plot_confusion(r, str(tmp_path / "c.png")).read_bytes()
    assert data[:8] == PNG_SIGNATURE


def test_plot_confusion_failure_keeps_old_file(report, tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    path = tmp_path / "confusion.png"
    path.write_bytes(b"old")

    def broken_savefig(self, *args, **kwargs):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    with pytest.raises(RuntimeError, match="renderer crashed"):
        plot_confusion(report, path)
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["confusion.png"]


def test_plot_confusion_rejects_non_report(tmp_path):
    with pytest.raises(TypeError, match="report: expected a ClassificationReport, got dict"):
        plot_confusion({"labels": []}, tmp_path / "x.png")
    assert list(tmp_path.iterdir()) == []
