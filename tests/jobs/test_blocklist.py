"""The blocklist's matching: case and accents ignored (Vietnamese included, đ too), whole words only, `*` within a word,
terms that cannot be made into anything but words; and the built-in list, which catches the obvious and nothing
innocent."""

from __future__ import annotations

import pytest

from jobs.blocklist import MAX_TERM_CHARS, MAX_TERM_WORDS, Blocklist, Entry, fold, parse_term, words_of
from jobs.default_blocklist import DEFAULT_ENTRIES, DEFAULT_TERMS
from jobs.errors import InvalidTerm


def blocks(term: str, text: str, *, sensitive: bool = False) -> bool:
    return Blocklist([Entry(parse_term(term).key, sensitive)]).hits(text) is not None


def test_folding_drops_case_accents_tone_marks_and_invisible_characters() -> None:
    assert fold("Bạo Lực") == "bao luc"
    assert fold("ĐÁNH nhau") == "danh nhau"  # đ does not decompose in Unicode; it still reads as d
    assert fold("Ærøskøbing Łódź") == "aeroskobing lodz"
    assert words_of("b\u200bạo-lực!!  soft\u00adhyphen") == ["bao", "luc", "softhyphen"]


@pytest.mark.parametrize(
    "prompt",
    ["BAO LUC", "bạo lực", "Bạo Lực trên phố", "a scene of bao-luc", "BẠO   LỰC", "b\u200bạo l\u200dực", "bao luc."],
)
def test_a_vietnamese_term_blocks_every_spelling_of_it(prompt: str) -> None:
    assert blocks("bạo lực", prompt)


@pytest.mark.parametrize("prompt", ["bạo", "lực lượng", "bao lucky", "luc bao", "a quiet harbour"])
def test_a_term_of_two_words_needs_both_side_by_side(prompt: str) -> None:
    assert not blocks("bạo lực", prompt)


def test_d_with_stroke_matches_plain_d_both_ways() -> None:
    assert blocks("đánh nhau", "DANH NHAU ngoài đường")
    assert blocks("danh nhau", "Đánh nhau ngoài đường")
    assert blocks("ĐÁNH NHAU", "đánh nhau")


@pytest.mark.parametrize(
    ("term", "blocked", "innocent"),
    [
        ("kill", ["KILL", "kill!", "a kill in the wild"], ["skill", "killing", "kills"]),
        ("kill*", ["killing", "KILLER", "kill"], ["skill", "overkill"]),
        ("*kill", ["skill", "overkill", "kill"], ["killing"]),
        ("bl*d", ["blood", "bled", "blond"], ["bloody"]),
        ("blood* bath", ["a bloody bath", "blood bath"], ["bloodbath", "blood and bath"]),
    ],
)
def test_terms_match_whole_words_and_a_wildcard_stays_within_its_word(
    term: str, blocked: list[str], innocent: list[str]
) -> None:
    assert [prompt for prompt in blocked if not blocks(term, prompt)] == []
    assert [prompt for prompt in innocent if blocks(term, prompt)] == []


def test_a_term_is_only_words_and_wildcards_never_a_regular_expression() -> None:
    assert parse_term("[a-z]+ (x|y)").key == "a z x y"  # the brackets and bars separate words, nothing more
    assert not blocks("[a-z]+ (x|y)", "hello world")
    assert blocks("[a-z]+ (x|y)", "A-Z x y")
    # Many wildcards against a long word: matched piece by piece, with no backtracking to blow up.
    assert not blocks("*a*a*a*a*a*a*a*a*b", "a" * 1000)
    assert blocks("*a*a*a*a*a*a*a*a*b", "a" * 1000 + "b")


def test_two_spellings_of_a_term_are_the_same_entry_and_what_was_typed_is_kept() -> None:
    typed = parse_term("  Bạo   Lực ")
    assert (typed.typed, typed.key) == ("Bạo Lực", "bao luc")
    assert parse_term("BAO-LUC").key == typed.key
    assert parse_term("kill**er").key == "kill*er"


@pytest.mark.parametrize(
    ("typed", "problem", "limit"),
    [
        ("", "empty", MAX_TERM_CHARS),
        ("   ", "empty", MAX_TERM_CHARS),
        (None, "empty", MAX_TERM_CHARS),
        ("x" * (MAX_TERM_CHARS + 1), "too_long", MAX_TERM_CHARS),
        ("*", "too_broad", 2),
        ("a*", "too_broad", 2),
        ("* * *", "too_broad", 2),
        ("?!", "too_broad", 2),
        (" ".join(["word"] * (MAX_TERM_WORDS + 1)), "too_many_words", MAX_TERM_WORDS),
        ("㍿" * 26, "too_long", MAX_TERM_CHARS),  # 26 characters that unfold into 104 letters
    ],
)
def test_a_term_that_is_no_term_is_refused_saying_why(typed: object, problem: str, limit: int) -> None:
    with pytest.raises(InvalidTerm) as refused:
        parse_term(typed)
    assert (refused.value.problem, refused.value.limit) == (problem, limit)


def test_a_term_refused_everywhere_outweighs_a_sensitive_one() -> None:
    blocklist = Blocklist([Entry("gore", sensitive=True), Entry("cruel*", sensitive=False)])
    assert blocklist.hits("gore") == "outside_age_restricted"
    assert blocklist.hits("GORE and cruelty") == "everywhere"
    assert blocklist.hits("cruelty, then gore") == "everywhere"
    assert blocklist.hits("a gentle fox") is None


def test_the_built_in_list_catches_the_obvious_in_both_languages() -> None:
    built_in = Blocklist(DEFAULT_ENTRIES)
    assert len(DEFAULT_TERMS) == len(DEFAULT_ENTRIES) <= 40  # short, and no two terms fold to the same entry
    for prompt in ("child porn", "CHILD PORNOGRAPHY", "khiêu dâm trẻ em", "KHIEU DAM TRE EM", "tinh duc tre em"):
        assert built_in.hits(prompt) == "everywhere", prompt
    for prompt in ("porn", "Nude beach", "HENTAI", "gore everywhere", "khiêu dâm", "TINH DUC", "dismembered"):
        assert built_in.hits(prompt) == "outside_age_restricted", prompt


@pytest.mark.parametrize(
    "prompt",
    [
        "a fox running through snow at dusk",
        "a skilled sextant navigator on a ship",
        "Essex countryside, naked trees in winter",
        "bác sĩ khoa thần kinh đang làm việc",  # a neurologist at work
        "đội truy bắt tội phạm trong đêm",  # a pursuit team at night
        "người châu Âu đam mê bóng đá",  # Europeans who love football
        "giáo viên dạy thể dục cho trẻ em",  # a PE teacher with children
        "pedometer and a children's choir",
    ],
)
def test_the_built_in_list_leaves_innocent_prompts_alone(prompt: str) -> None:
    assert Blocklist(DEFAULT_ENTRIES).hits(prompt) is None
