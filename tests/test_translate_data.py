"""Where a translation run's pairs come from (rnnkit.tasks.translate.data): Multi30k's files,
eng-fra's deduplicated grouped split, the user's files and a held-out share."""

from __future__ import annotations

import dataclasses
import gzip
from pathlib import Path

import pytest

from rnnkit.config import ConfigError
from rnnkit.tasks.translate.config import TranslateDataConfig
from rnnkit.tasks.translate.data import eng_fra_split, load_splits, load_test


def _eng_fra(root: Path, lines: list[str]) -> None:
    (root / "eng-fra").mkdir(parents=True)
    with gzip.open(root / "eng-fra" / "eng-fra.txt.gz", "wt", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


@pytest.fixture
def data_root(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "data"
    monkeypatch.setenv("RNNKIT_DATA", str(root))
    monkeypatch.setenv("RNNKIT_CACHE", str(tmp_path / "cache"))
    return root


def test_eng_fra_keeps_a_repeated_pair_once_and_a_source_in_one_split(data_root):
    lines = [f"Sentence {i}.\tPhrase {i} !" for i in range(40)]
    lines += ["Sentence 3.\tPhrase 3\u202f!", "Sentence 3.\tAutre phrase 3 !"]  # a repeat, a second
    _eng_fra(data_root, lines)
    config = TranslateDataConfig(dataset="eng-fra", tgt="fr", test_size=5, valid_size=4)
    train, valid, test = eng_fra_split(config)
    assert (len(test.src), len(valid.src)) == (5, 4)
    kept = [*train.tgt, *valid.tgt, *test.tgt]
    assert "Phrase 3\u202f!" not in kept  # the repeat, spelled with a narrow no-break space
    # 41 distinct pairs; only Sentence 3's two may lose one, where its group overfills a split
    assert len(kept) == 41 or (
        len(kept) == 40 and kept.count("Phrase 3 !") + kept.count("Autre phrase 3 !") == 1
    )
    splits = [set(train.src), set(valid.src), set(test.src)]
    assert not (splits[0] & splits[1] or splits[0] & splits[2] or splits[1] & splits[2])
    assert eng_fra_split(config) == (train, valid, test)  # the same split every time
    french_first = dataclasses.replace(config, src="fr", tgt="en")
    assert eng_fra_split(french_first)[2].tgt[0].startswith("Sentence")


def test_eng_fra_refuses_a_split_that_leaves_no_training(data_root):
    _eng_fra(data_root, [f"S {i}.\tP {i}." for i in range(6)])
    with pytest.raises(ConfigError, match=r"test_size \+ valid_size \(7\) leave none of the 6"):
        eng_fra_split(TranslateDataConfig(dataset="eng-fra", tgt="fr", test_size=5, valid_size=2))


def test_multi30k_reads_the_chosen_form_and_languages(data_root):
    for folder, name in (("raw", "{split}.{lang}.gz"), ("tok", "{split}.lc.norm.tok.{lang}")):
        (data_root / "multi30k" / folder).mkdir(parents=True)
        for split in ("train", "val", "test_2016_flickr", "test_2017_mscoco"):
            for lang in ("en", "de", "fr"):
                path = data_root / "multi30k" / folder / name.format(split=split, lang=lang)
                text = f"{folder} {split} {lang} 1\n{folder} {split} {lang} 2\n"
                if path.suffix == ".gz":
                    path.write_bytes(gzip.compress(text.encode()))
                else:
                    path.write_text(text, encoding="utf-8")
    config = TranslateDataConfig(dataset="multi30k", src="fr", tgt="en", form="tok")
    train, valid = load_splits(config, seed=0)
    assert train.src == ["tok train fr 1", "tok train fr 2"] and valid.tgt[1] == "tok val en 2"
    raw = TranslateDataConfig(dataset="multi30k", tgt="de")
    assert load_test(raw).tgt == ["raw test_2016_flickr de 1", "raw test_2016_flickr de 2"]
    assert load_test(raw, "test_2017_mscoco").src[0] == "raw test_2017_mscoco en 1"
    with pytest.raises(ConfigError, match="split"):
        load_test(raw, "test_2099")


def test_files_and_a_held_out_share(tmp_path):
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("".join(f"s{i}\tt{i}\n" for i in range(20)), encoding="utf-8")
    config = TranslateDataConfig(data=str(pairs), valid_fraction=0.25)
    train, valid = load_splits(config, seed=3)
    assert (len(train.src), len(valid.src)) == (15, 5)
    assert sorted(train.src + valid.src) == sorted(f"s{i}" for i in range(20))
    assert all(t == "t" + s[1:] for s, t in zip(train.src, train.tgt, strict=True))
    with pytest.raises(ConfigError, match="no test set"):
        load_test(config)
    with pytest.raises(ConfigError, match="no training data"):
        load_splits(TranslateDataConfig(), seed=0)


def test_real_splits_have_the_published_sizes(real_data):
    train, valid = load_splits(TranslateDataConfig(dataset="multi30k", tgt="de"), seed=0)
    assert (len(train.src), len(valid.src)) == (29_000, 1_014)
    config = TranslateDataConfig(dataset="eng-fra", tgt="fr")
    train, valid, test = eng_fra_split(config)
    assert (len(valid.src), len(test.src)) == (2_000, 5_000)
    assert not set(train.src) & set(test.src)
