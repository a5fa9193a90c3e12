"""rnnkit.data.text: each preprocessing step on concrete strings, the config's JSON round trip
and checks, and the stage names that ``steps`` reports."""

from __future__ import annotations

import pickle

import pytest

from rnnkit.config import ConfigError, apply_overrides, from_json, to_dict, to_json
from rnnkit.data import TextConfig, TextPipeline
from rnnkit.data.text import NEGATIONS

# Only the stage under test is on; everything else is off, so each test sees one step.
BARE = TextConfig(normalize=False, lowercase=False, strip_html=False, urls="keep")


def run(text: str, **options) -> list[str]:
    fields = to_dict(BARE) | options
    return TextPipeline(TextConfig(**fields))(text)


def stage_output(text: str, stage: str, config: TextConfig | None = None):
    return dict(TextPipeline(config).steps(text))[stage]


# ---------------------------------------------------------------------------------------------
# Normalization
# ---------------------------------------------------------------------------------------------


def test_nfkc_folds_ligatures_and_full_width_forms():
    assert stage_output("ﬁne ｆｉｌｍ １２３", "normalize") == "fine film 123"
    assert run("ﬁne １２３", normalize=True) == ["fine", "123"]
    assert run("ﬁne", normalize=False) == ["ﬁne"]


def test_nfkc_turns_the_ellipsis_character_into_an_ellipsis_token():
    assert run("wait… what", normalize=True) == ["wait", "...", "what"]


def test_lowercase():
    assert run("The FILM", lowercase=True) == ["the", "film"]
    assert run("The FILM") == ["The", "FILM"]


def test_html_tags_become_spaces_and_entities_are_decoded():
    text = "Great film.<br /><br />Tom &amp; Jerry&#39;s best &lt;3"
    assert stage_output(text, "html") == "Great film.  Tom & Jerry's best <3"
    assert run(text, strip_html=True) == [
        "Great", "film", ".", "Tom", "&", "Jerry", "'s", "best", "<3",
    ]  # fmt: skip


def test_html_stripping_leaves_comparisons_and_escaped_tags_as_text():
    assert stage_output("a < b and &lt;i&gt;", "html") == "a < b and <i>"


def test_html_entity_is_decoded_before_nfkc():
    # &#xFB01; is the "fi" ligature: decoded first, then folded by NFKC.
    assert TextPipeline()("&#xFB01;ne") == ["fine"]


def test_without_html_stripping_a_tag_is_split_into_punctuation():
    assert "br" in run("a<br />b")


# ---------------------------------------------------------------------------------------------
# URLs and numbers
# ---------------------------------------------------------------------------------------------


def test_urls_become_a_placeholder_and_trailing_punctuation_stays_a_token():
    text = "See https://www.imdb.com/title/tt0111161/?ref=x. Or www.example.org!"
    assert run(text, urls="token") == ["See", "<url>", ".", "Or", "<url>", "!"]


def test_urls_removed():
    assert run("See http://example.com/a now", urls="remove") == ["See", "now"]


def test_urls_kept_are_one_token():
    assert run("See http://example.com/a_b?x=1, now", urls="keep") == [
        "See", "http://example.com/a_b?x=1", ",", "now",
    ]  # fmt: skip


def test_numbers_become_a_placeholder_only_when_asked():
    text = "Rated 7/10 by 1,000 fans for $3.50 in the 1990s"
    assert run(text, numbers="token") == [
        "Rated", "<num>", "by", "<num>", "fans", "for", "$", "<num>", "in", "the", "1990s",
    ]  # fmt: skip
    assert "3.50" in run(text, numbers="keep")


def test_full_width_digits_become_a_number_token():
    assert TextPipeline(TextConfig(numbers="token"))("１２３ stars") == ["<num>", "stars"]


# ---------------------------------------------------------------------------------------------
# Tokenizer
# ---------------------------------------------------------------------------------------------


def test_contractions_are_split_the_treebank_way():
    assert run("I didn't know it's Tom's can't") == [
        "I", "did", "n't", "know", "it", "'s", "Tom", "'s", "ca", "n't",
    ]  # fmt: skip
    assert run("we'll they're I'm you've") == [
        "we", "'ll", "they", "'re", "I", "'m", "you", "'ve",
    ]  # fmt: skip


def test_punctuation_is_split_off_and_hyphenated_words_stay_whole():
    assert run('A well-known, "so-so" film (really)!') == [
        "A", "well-known", ",", '"', "so-so", '"', "film", "(", "really", ")", "!",
    ]  # fmt: skip


def test_every_sentence_loses_its_full_stop_but_abbreviations_keep_theirs():
    assert run("It was bad. I left. Mr. Smith stayed.") == [
        "It", "was", "bad", ".", "I", "left", ".", "Mr.", "Smith", "stayed", ".",
    ]  # fmt: skip


def test_ellipsis_and_emoticons_are_single_tokens():
    assert run("Hmm... great :) but sad :-( <3") == [
        "Hmm", "...", "great", ":)", "but", "sad", ":-(", "<3",
    ]  # fmt: skip


def test_emoticon_lookalikes_inside_text_are_not_emoticons():
    assert run("He said: no (1998)") == ["He", "said", ":", "no", "(", "1998", ")"]


def test_tokenizer_is_not_str_split():
    assert run("yes!no, (maybe)") == ["yes", "!", "no", ",", "(", "maybe", ")"]


def test_empty_and_whitespace_text_give_no_tokens():
    assert TextPipeline()("") == []
    assert TextPipeline()("  \n\t ") == []


# ---------------------------------------------------------------------------------------------
# Stop words and negation
# ---------------------------------------------------------------------------------------------


def test_stop_words_removed_but_negations_kept():
    tokens = TextPipeline(TextConfig(stopwords=True))("I didn't like it, not at all. Never!")
    assert tokens == ["n't", "like", ",", "not", ".", "never", "!"]


def test_negations_removed_when_asked():
    config = TextConfig(stopwords=True, keep_negations=False)
    assert TextPipeline(config)("I did not like it, no") == ["like", ","]


def test_stop_words_are_matched_case_insensitively():
    assert run("The Film IS NOT bad", stopwords=True) == ["Film", "NOT", "bad"]


def test_negation_list_has_the_usual_words():
    assert {"not", "no", "nor", "never", "n't", "nothing", "cannot"} <= NEGATIONS


# ---------------------------------------------------------------------------------------------
# Stemming and lemmatization
# ---------------------------------------------------------------------------------------------


def test_porter_stemming():
    assert run("running generously studies caresses ponies", stem="porter") == [
        "run", "gener", "studi", "caress", "poni",
    ]  # fmt: skip


def test_snowball_stemming():
    assert run("running generously studies caresses ponies", stem="snowball") == [
        "run", "generous", "studi", "caress", "poni",
    ]  # fmt: skip


def test_lemmatization():
    assert run("children went running mice was better", lemmatize=True) == [
        "child", "go", "run", "mouse", "be", "good",
    ]  # fmt: skip


def test_placeholders_are_not_stemmed_or_lemmatized():
    config = TextConfig(numbers="token", stem="porter")
    assert TextPipeline(config)("see http://a.org 42 times") == ["see", "<url>", "<num>", "time"]
    config = TextConfig(numbers="token", lemmatize=True)
    assert TextPipeline(config)("see http://a.org 42 times") == ["see", "<url>", "<num>", "time"]


# ---------------------------------------------------------------------------------------------
# Config and pipeline
# ---------------------------------------------------------------------------------------------


def test_config_json_round_trip():
    config = TextConfig(
        normalize=False, urls="remove", numbers="token", stopwords=True, keep_negations=False,
        stem="snowball",
    )  # fmt: skip
    assert from_json(TextConfig, to_json(config)) == config
    assert from_json(TextConfig, to_json(TextConfig())) == TextConfig()
    assert list(to_dict(TextConfig())) == [
        "normalize", "lowercase", "strip_html", "urls", "numbers", "tokenizer", "stopwords",
        "keep_negations", "stem", "lemmatize",
    ]  # fmt: skip


def test_config_overrides_as_on_the_command_line():
    config = apply_overrides(TextConfig(), ["stem=porter", "stopwords=yes"])
    assert (config.stem, config.stopwords) == ("porter", True)


@pytest.mark.parametrize(
    ("fields", "key", "words"),
    [
        ({"stem": "porter", "lemmatize": True}, "lemmatize", "stem='porter'"),
        ({"keep_negations": False}, "keep_negations", "stopwords=True"),
        ({"urls": "drop"}, "urls", "one of 'keep', 'token', 'remove'"),
        ({"stem": "lancaster"}, "stem", "one of 'none', 'porter', 'snowball'"),
        ({"lowercase": 1}, "lowercase", "expected bool"),
    ],
)
def test_config_errors_name_the_field(fields, key, words):
    with pytest.raises(ConfigError) as info:
        TextConfig(**fields)
    assert info.value.key == key
    assert words in str(info.value)


def test_unknown_key_in_json_is_an_error():
    with pytest.raises(ConfigError, match="lemmatise: unknown key"):
        from_json(TextConfig, '{"lemmatise": true}')


def test_steps_names_and_outputs():
    config = TextConfig(numbers="token", stopwords=True, stem="porter")
    steps = TextPipeline(config).steps("The <b>FILMS</b> weren't 10/10 at http://x.org")
    assert [name for name, _ in steps] == [
        "html", "normalize", "lowercase", "urls", "tokenize", "numbers", "stopwords", "stem",
    ]  # fmt: skip
    outputs = dict(steps)
    assert outputs["html"] == "The  FILMS  weren't 10/10 at http://x.org"
    assert outputs["urls"] == "the  films  weren't 10/10 at  <url> "
    assert outputs["tokenize"] == ["the", "films", "were", "n't", "10/10", "at", "<url>"]
    assert outputs["stem"] == ["film", "n't", "<num>", "<url>"]
    assert steps[-1][1] == TextPipeline(config)("The <b>FILMS</b> weren't 10/10 at http://x.org")


def test_steps_leave_out_switched_off_stages():
    assert [name for name, _ in TextPipeline(BARE).steps("x")] == ["tokenize"]
    names = [name for name, _ in TextPipeline(TextConfig(lemmatize=True)).steps("x")]
    assert names[-1] == "lemmatize"


def test_pipeline_rejects_non_text_and_wrong_config():
    with pytest.raises(ConfigError, match="text: expected str, got bytes"):
        TextPipeline()(b"abc")
    with pytest.raises(ConfigError, match="config: expected a TextConfig, got dict"):
        TextPipeline({"lowercase": True})


def test_pipeline_pickles_by_its_config():
    pipeline = TextPipeline(TextConfig(stem="snowball"))
    clone = pickle.loads(pickle.dumps(pipeline))
    assert clone.config == pipeline.config
    assert clone("Running dogs") == pipeline("Running dogs") == ["run", "dog"]


def test_a_huge_line_is_tokenized_a_block_at_a_time(monkeypatch):
    # NLTK gives each regular expression 5 seconds; a book on one line used to end in its
    # TimeoutError. Blocks cut at whitespace give the same tokens as the whole text.
    import rnnkit.data.text as text_module

    line = " ".join(f"Word{i % 97}, said Mr. Smith (1998)!" for i in range(400))
    whole = TextPipeline()(line)
    monkeypatch.setattr(text_module, "_BLOCK_CHARS", 1000)
    assert TextPipeline()(line) == whole
    assert "".join(text_module._blocks(line, 1000)) == line
    assert max(map(len, text_module._blocks(line, 1000))) <= 1000


def test_a_tokenizer_timeout_is_a_data_error(monkeypatch):
    from nltk.tokenize.destructive import NLTKWordTokenizer

    from rnnkit.data.errors import DataError

    def give_up(self, text):
        raise TimeoutError("regex took too long")

    monkeypatch.setattr(NLTKWordTokenizer, "tokenize", give_up)
    with pytest.raises(DataError, match=r"tokenizer gave up on a text of 11 characters"):
        TextPipeline(TextConfig(lowercase=False))("hello world")
