"""The blocklist's matching: case and accents ignored (Vietnamese included, đ too), whole words only, `*` within a word,
terms that cannot be made into anything but words; and the built-in list, which catches the obvious and nothing
innocent."""

from __future__ import annotations

import unicodedata

import pytest

from jobs.blocklist import (
    DEFAULT_IGNORABLE,
    MAX_TERM_CHARS,
    MAX_TERM_WORDS,
    MAX_WORDS,
    Blocklist,
    Entry,
    TooManyWords,
    fold,
    parse_term,
    readings,
)
from jobs.default_blocklist import DEFAULT_ENTRIES, REFUSED_EVERYWHERE, REFUSED_OUTSIDE_AGE_RESTRICTED
from jobs.errors import InvalidTerm
from model.prompts import MAX_PROMPT_CHARS


def blocks(term: str, text: str, *, sensitive: bool = False) -> bool:
    return Blocklist([Entry(parse_term(term).key, sensitive)]).hits(text) is not None


def test_folding_drops_case_accents_tone_marks_and_invisible_characters() -> None:
    assert fold("Bạo Lực") == "bao luc"
    assert fold("ĐÁNH nhau") == "danh nhau"  # đ does not decompose in Unicode; it still reads as d
    assert fold("Ærøskøbing Łódź") == "aeroskobing lodz"
    assert readings("b\u200bạo-lực!!  soft\u00adhyphen")[0] == ["bao", "luc", "softhyphen"]


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
    terms = (*REFUSED_EVERYWHERE, *REFUSED_OUTSIDE_AGE_RESTRICTED)
    assert len(terms) == len(DEFAULT_ENTRIES) <= 40  # short, and no two terms fold to the same entry
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


@pytest.mark.parametrize("prompt", ["CHILD 𝐏𝐎𝐑𝐍", "child 𝕡𝕠𝕣𝕟", "ＣＨＩＬＤ ＰＯＲＮ", "🅒🅗🅘🅛🅓 🄿🄾🅁🄽", "ᶜʰⁱˡᵈ ᴾᴼᴿᴺ"])
def test_letters_drawn_in_another_style_are_the_letters_they_show(prompt: str) -> None:
    assert Blocklist(DEFAULT_ENTRIES).hits(prompt) == "everywhere"


@pytest.mark.parametrize("prompt", ["a 𝐊𝐈𝐋𝐋 fox", "𝕂𝕀𝕃𝕃", "🄺🄸🄻🄻", "ᴷᴵᴸᴸ", "Ⓚⓘⓛⓛ", "𝓚𝓲𝓵𝓵", "KİLL", "ＫＩＬＬ"])
def test_a_term_blocks_its_word_in_any_style_of_letter(prompt: str) -> None:
    assert blocks("kill", prompt)


def test_a_term_typed_in_fancy_letters_is_stored_as_its_plain_letters() -> None:
    assert parse_term("𝐊𝐈𝐋𝐋 ＦＯＸ").key == "kill fox"
    assert parse_term("Straße").key == parse_term("STRASSE").key == "strasse"


def test_folding_is_stable_and_blind_to_case_across_unicode() -> None:
    """Every assigned character of the first two planes (where letters of every style live): folded text folds to
    itself, holds nothing case folding would change, and upper and lower case fold alike."""
    assigned = "".join(
        char
        for char in map(chr, range(0x20000))
        if not "\ud800" <= char <= "\udfff" and unicodedata.category(char) not in ("Cn", "Co")
    )
    folded = fold(assigned)
    assert fold(folded) == folded
    assert folded.casefold() == folded
    assert fold(assigned.upper()) == fold(assigned.lower())


@pytest.mark.parametrize(
    "prompt",
    [
        "ki\u034fll",  # a combining grapheme joiner
        "k\ufe0fi\ufe00ll",  # variation selectors
        "kil\U000e0020l",  # a tag character
        "ki\u0903ll",  # a spacing mark
        "k\u20ddill",  # an enclosing mark
        "ki\u200bl\u2060l",  # zero width space, word joiner
    ],
)
def test_no_mark_or_invisible_character_splits_a_word(prompt: str) -> None:
    assert blocks("kill", prompt)


@pytest.mark.parametrize("filler", ["\u3164", "\u115f", "\u1160", "\uffa0"])
def test_hangul_fillers_read_as_the_spaces_they_look_like(filler: str) -> None:
    assert Blocklist(DEFAULT_ENTRIES).hits(f"child{filler}porn") == "everywhere"
    assert readings(f"a{filler}fox")[0] == ["a", "fox"]


def test_the_default_ignorable_code_points_are_unicodes() -> None:
    """The hand-kept table is Unicode's Default_Ignorable_Code_Point property, as the regex module knows it."""
    regex = pytest.importorskip("regex")
    every = "".join(map(chr, range(0x110000)))
    runs = regex.finditer(r"\p{Default_Ignorable_Code_Point}+", every)
    assert tuple((run.start(), run.end() - 1) for run in runs) == DEFAULT_IGNORABLE


@pytest.mark.parametrize(
    ("term", "prompt"),
    [
        ("porn*", "p.o.r.n"),
        ("porn*", "P O R N"),
        ("porn*", "p. o. r. n."),
        ("porn*", "p_o_r_n_star"),
        ("porn*", "por.n"),
        ("nsfw", "n-s-f-w"),
        ("nsfw", "n/s/f/w art"),
        ("nsfw", "N S F W"),
        ("kill", "the k i l l scene"),
        ("kill", "a k.i.l.l scene"),
        ("kill", "a ᴋɪʟʟ"),  # small capitals
        ("kill", "🅚🅘🅛🅛"),  # negative circled letters
        ("kill", "🅺🅸🅻🅻"),  # negative squared letters
        ("kill", "🇰🇮🇱🇱"),  # regional indicators
        ("child porn*", "child p.o.r.n"),
        ("child porn*", "child p o r n"),
        ("bạo lực", "b.ạ.o l.ự.c"),
    ],
)
def test_a_word_spelled_out_or_split_by_punctuation_is_read_joined(term: str, prompt: str) -> None:
    assert blocks(term, prompt)


@pytest.mark.parametrize(
    ("term", "prompt"),
    [
        ("porn*", "a p o fox"),  # two single letters are not a spelled-out word
        ("kill", "ski-ll"),  # joined, the word is "skill"
        ("nude", "nu de"),  # words of two letters, split by a space, stay two words
        ("kill", "a kill-switch"),  # found as its own word, as before
    ],
)
def test_joining_reads_only_what_looks_like_one_word(term: str, prompt: str) -> None:
    expected = prompt == "a kill-switch"
    assert blocks(term, prompt) is expected


def test_a_text_that_folds_into_too_many_words_is_not_matched() -> None:
    blocklist = Blocklist([Entry("kill", sensitive=False)])
    with pytest.raises(TooManyWords):
        blocklist.hits("\ufdfa" * MAX_PROMPT_CHARS)  # one character, four words (ﷺ)
    assert blocklist.tries == 0
    with pytest.raises(TooManyWords):
        blocklist.hits("a " * (MAX_WORDS + 1))
    assert Blocklist([]).hits("\ufdfa" * MAX_PROMPT_CHARS) is None  # nothing to match: nothing to refuse
    assert len(readings("a " * MAX_WORDS)[0]) == MAX_WORDS  # every plain prompt fits: a word needs two characters
    assert MAX_WORDS >= MAX_PROMPT_CHARS // 2


def test_terms_that_start_with_a_wildcard_are_not_tried_at_every_word() -> None:
    """Work is counted in tries (an entry checked at a word): hostile prompts and lists cost little of it."""
    suffixed = Blocklist([Entry(f"*kill{number} word", sensitive=False) for number in range(100)])
    assert suffixed.hits("\ufdfa" * (MAX_WORDS // 4)) is None  # the most words a prompt may fold into
    assert suffixed.tries == 0  # no prompt word is "word"
    assert suffixed.hits("skill7 word " * 200) == "everywhere"
    assert suffixed.tries <= 100  # the entries filed under "word", at its first one

    inner = Blocklist([Entry(f"*kill*{number}*", sensitive=False) for number in range(100)])
    assert inner.hits("\ufdfa" * (MAX_WORDS // 4)) is None
    assert inner.tries == 0  # no entry's letters are in the prompt at all
    assert inner.hits("kill 1 " * 400) is None
    assert inner.tries == 800  # only *kill*1* has all its letters in the prompt: tried at each of its words

    suffix_only = Blocklist([Entry(f"*kill{number}", sensitive=True) for number in range(100)])
    assert suffix_only.hits("skill " * 400) is None
    assert suffix_only.tries == 0  # filed by how they end: no word ends in "kill" and a digit
