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
    (10, 'pairs')
"""

from __future__ import annotations

from rnnkit.data.corpus import (
    Level,
    LMCorpus,
    batchify,
    detokenize,
    lm_corpora,
    lm_windows,
    load_lm_corpus,
    tokenize,
    unigram_entropy,
)
from rnnkit.data.embeddings import (
    CoverageReport,
    detect_format,
    embedding_matrix,
    load_vectors,
    save_vectors,
)
from rnnkit.data.errors import DataError
from rnnkit.data.readers import (
    Sentence,
    iter_lines,
    open_text,
    read_conll,
    read_pairs,
    read_records,
    read_text,
    read_timeseries_csv,
)
from rnnkit.data.registry import (
    REGISTRY,
    DatasetFile,
    DatasetSpec,
    DownloadResult,
    VerifyResult,
    cache_dir,
    data_roots,
    download,
    get_spec,
    local_files,
    locate,
    sha256_file,
    verify,
)
from rnnkit.data.text import TextConfig, TextPipeline
from rnnkit.data.vocab import Vocabulary

__all__ = [
    "REGISTRY",
    "CoverageReport",
    "DataError",
    "DatasetFile",
    "DatasetSpec",
    "DownloadResult",
    "LMCorpus",
    "Level",
    "Sentence",
    "TextConfig",
    "TextPipeline",
    "VerifyResult",
    "Vocabulary",
    "batchify",
    "cache_dir",
    "data_roots",
    "detect_format",
    "detokenize",
    "download",
    "embedding_matrix",
    "get_spec",
    "iter_lines",
    "lm_corpora",
    "lm_windows",
    "load_lm_corpus",
    "load_vectors",
    "local_files",
    "locate",
    "open_text",
    "read_conll",
    "read_pairs",
    "read_records",
    "read_text",
    "read_timeseries_csv",
    "save_vectors",
    "sha256_file",
    "tokenize",
    "unigram_entropy",
    "verify",
]
