"""Data: the benchmark dataset registry and readers for user files.

:mod:`rnnkit.data.registry` names the benchmark datasets (source, files, sha256, parser,
split, metric), finds their files under ``$RNNKIT_DATA`` and the user cache, verifies and
downloads them. :mod:`rnnkit.data.readers` reads any file in the documented formats (plain
text, JSONL/CSV/TSV, CoNLL, TSV pairs, time-series CSV) with errors that name the file,
line and field. Only :mod:`rnnkit.config` is imported from rnnkit (see DESIGN.md); pandas
is imported on use.

Example:
    >>> from rnnkit.data import REGISTRY, get_spec
    >>> len(REGISTRY), get_spec("eng-fra").format
    (11, 'pairs')
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

# public name -> the module that defines it. Loaded on first use (PEP 562), so the command
# line (`rnnkit datasets ...`, `rnnkit --version`) does not pay for numpy, nltk or torch.
_EXPORTS = {
    "batchify": "rnnkit.data.corpus",
    "cache_dir": "rnnkit.data.registry",
    "check_timing": "rnnkit.data.timeseries",
    "CoverageReport": "rnnkit.data.embeddings",
    "data_roots": "rnnkit.data.registry",
    "DataError": "rnnkit.data.errors",
    "DatasetFile": "rnnkit.data.datasets",
    "DatasetSpec": "rnnkit.data.datasets",
    "detect_format": "rnnkit.data.embeddings",
    "detokenize": "rnnkit.data.corpus",
    "download": "rnnkit.data.registry",
    "DownloadResult": "rnnkit.data.registry",
    "embedding_matrix": "rnnkit.data.embeddings",
    "fill_missing": "rnnkit.data.timeseries",
    "FillReport": "rnnkit.data.timeseries",
    "get_spec": "rnnkit.data.registry",
    "iter_lines": "rnnkit.data.readers",
    "Level": "rnnkit.data.corpus",
    "lm_corpora": "rnnkit.data.corpus",
    "LMCorpus": "rnnkit.data.corpus",
    "load_lm_corpus": "rnnkit.data.corpus",
    "load_vectors": "rnnkit.data.embeddings",
    "local_files": "rnnkit.data.registry",
    "locate": "rnnkit.data.registry",
    "make_windows": "rnnkit.data.timeseries",
    "open_text": "rnnkit.data.readers",
    "read_conll": "rnnkit.data.readers",
    "read_tagged": "rnnkit.data.tagged",
    "read_numeric_examples": "rnnkit.data.examples",
    "read_pairs": "rnnkit.data.readers",
    "read_records": "rnnkit.data.readers",
    "read_series": "rnnkit.data.timeseries",
    "read_text": "rnnkit.data.readers",
    "read_text_examples": "rnnkit.data.examples",
    "read_timeseries_csv": "rnnkit.data.readers",
    "REGISTRY": "rnnkit.data.datasets",
    "resample": "rnnkit.data.timeseries",
    "save_vectors": "rnnkit.data.embeddings",
    "Sentence": "rnnkit.data.readers",
    "SeriesScaler": "rnnkit.data.timeseries",
    "sha256_file": "rnnkit.data.registry",
    "split_rows": "rnnkit.data.timeseries",
    "SplitBounds": "rnnkit.data.timeseries",
    "SubwordTokenizer": "rnnkit.data.subword",
    "TextConfig": "rnnkit.data.text",
    "TextPipeline": "rnnkit.data.text",
    "TimingReport": "rnnkit.data.timeseries",
    "tokenize": "rnnkit.data.corpus",
    "unigram_entropy": "rnnkit.data.corpus",
    "verify": "rnnkit.data.registry",
    "VerifyResult": "rnnkit.data.registry",
    "Vocabulary": "rnnkit.data.vocab",
    "window_starts": "rnnkit.data.timeseries",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'rnnkit.data' has no attribute {name!r}")
    value = getattr(import_module(_EXPORTS[name]), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
