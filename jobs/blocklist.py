"""A server's blocklist: which typed terms are valid, how they are stored, and how prompts are matched against them.

Matching sees letters, not how they are drawn (`fold`). Compatibility forms are unfolded before case is folded, so
mathematical, fullwidth, circled, squared and superscript letters read as the plain ones (`𝐊𝐈𝐋𝐋`, `ＫＩＬＬ`, `🄺🄸🄻🄻`
and `ᴷᴵᴸᴸ` as `kill`); then the text is unfolded again, every mark (accents, tone marks, combining joiners) and
every default-ignorable code point (zero-width spaces, soft hyphens, variation selectors, tags) is dropped, `đ`
reads as `d` (which Unicode does not decompose), and the Hangul fillers, letters to Unicode but blank on screen, read
as the spaces they look like. So `bạo lực` blocks `BAO LUC` and `Bạo Lực`. The price of accent-insensitivity:
Vietnamese words that differ only in their marks match each other (`bạo` and `bão`), so a term of two or more words
says what it means more safely than one word alone.

Both sides are cut into words (runs of letters and digits; anything else separates them), and a term matches only
whole words, in order, side by side: `kill` blocks "kill" and "KILL!" but neither "skill" nor "killing". A prompt is
also read joined (`readings`), so that spelling a word out does not hide it: once with words split by punctuation
alone made one (`p.o.r.n`, `n-s-f-w`), and once with, besides, every run of SPELLED_OUT or more single letters or
digits made one however they are split (`p o r n`, `k. i. l. l`); a term that matches any reading matches. Ordinary
words stay whole, so "ski-ll" is not "kill"; a single-letter word next to a spelled-out one joins it ("a k i l l"
reads "akill"), the price of not guessing where a spelled-out word begins.

A term is one to MAX_TERM_WORDS words; `*` in a word stands for any run of letters and digits within that word
(`kill*` also blocks "killing" and "killer", `*kill` blocks "skill"). That is all a term can say: no regular
expressions. Matching costs little whatever the prompt and the list: a text that folds into more than MAX_WORDS words
is not matched at all (TooManyWords: the caller refuses it as too long), each entry is filed under one of its words
(`Blocklist`) and tried only where a prompt word fits that one, and a wildcard word is matched piece by piece with no
backtracking.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import groupby, pairwise
from typing import Literal

from jobs.errors import InvalidTerm
from model.prompts import MAX_PROMPT_CHARS

MAX_TERM_CHARS = 50
MAX_TERM_WORDS = 6
MAX_KEY_CHARS = 100
"""The folded form's length, at most: db.models' BLOCKED_TERM_CHARS."""
MIN_TERM_LETTERS = 2
"""Letters and digits a term must hold besides its wildcards: `*` or `a*` alone would refuse nearly every prompt."""
MAX_WORDS = MAX_PROMPT_CHARS
"""The most words a text may fold into to be matched: twice what the longest prompt holds when it is plain text (a
word and a separator take two characters). Only characters that unfold into several words (`ﷺ` into four) reach
more."""
SPELLED_OUT = 3
"""Single letters in a row, however split, that read as one word: "a b" stays two words, "p o r n" is one."""
WILDCARD = "*"

TermProblem = Literal["empty", "too_long", "too_many_words", "too_broad"]

_WORD = re.compile(r"[^\W_]+")
_TERM_WORD = re.compile(r"(?:[^\W_]|\*)+")  # a word of a term: letters, digits and wildcards
_SPACE = re.compile(r"\s")
# Letters that carry their mark in their shape, so NFKD leaves them whole: read as their bare letter.
_BARE_LETTERS = {"đ": "d", "ð": "d", "ø": "o", "ł": "l", "ħ": "h", "ı": "i", "æ": "ae", "œ": "oe"}
# Latin letters drawn another way that Unicode does not decompose: small capitals (`ᴋɪʟʟ`), negative circled and
# squared letters (`🅚`, `🅺`), regional indicators (`🇰`). Read by name as the letter they show.
_DRAWN_LETTER = re.compile(r"\b(?:LATIN|REGIONAL INDICATOR)\b.*\b(?:LETTER|CAPITAL) ([A-Z])$")
_HANGUL_FILLERS = frozenset("\u115f\u1160\u3164\uffa0")
DEFAULT_IGNORABLE = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)
"""Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt) as inclusive ranges: characters that show as
nothing, dropped (the Hangul fillers among them read as spaces instead). tests/jobs/test_blocklist.py checks it
against the regex module's table."""
_TABLE_LIMIT = 1 << 16


class TooManyWords(ValueError):
    """The text folds into more than MAX_WORDS words: it is not matched."""


def _folded_char(code_point: int) -> str:
    """A character of unfolded, case-folded text as matching reads it: a space, nothing, or a letter."""
    char = chr(code_point)
    if char in _HANGUL_FILLERS:
        return " "
    category = unicodedata.category(char)
    if category.startswith("M") or category == "Cf" or _ignorable(code_point):
        return ""
    if drawn := _DRAWN_LETTER.search(unicodedata.name(char, "")):
        return drawn.group(1).lower()
    return _BARE_LETTERS.get(char, char)


def _ignorable(code_point: int) -> bool:
    return any(first <= code_point <= last for first, last in DEFAULT_IGNORABLE)


class _FoldingTable(dict[int, str]):
    """str.translate's table for `fold`, filled in as characters are first met; it stops growing at _TABLE_LIMIT
    characters (a prompt cycling through all of Unicode costs a look-up, not memory)."""

    def __missing__(self, code_point: int) -> str:
        folded = _folded_char(code_point)
        if len(self) < _TABLE_LIMIT:
            self[code_point] = folded
        return folded


_FOLDING = _FoldingTable()


def fold(text: str) -> str:
    """The text as matching compares it: compatibility forms unfolded, then lower case (unfolded again, which case
    folding can call for), without marks or invisible characters, `đ` as `d`, Hangul fillers as spaces."""
    unfolded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    return unfolded.translate(_FOLDING)


def readings(text: str) -> list[list[str]]:
    """The ways the text is matched, each a list of words: its words; where punctuation alone splits words, those
    joined (`p.o.r.n`); and where SPELLED_OUT or more single letters stand in a row, those joined as well (`p o r n`).
    Raises TooManyWords."""
    folded = fold(text)
    found = list(_WORD.finditer(folded))
    if len(found) > MAX_WORDS:
        raise TooManyWords(len(found))
    words = [match.group() for match in found]
    glued = [not _SPACE.search(folded, before.end(), after.start()) for before, after in pairwise(found)]
    spelled = list(glued)
    position = 0
    for single, run in groupby(len(word) == 1 for word in words):
        length = len(list(run))
        if single and length >= SPELLED_OUT:
            spelled[position : position + length - 1] = [True] * (length - 1)
        position += length
    joinings = [joins for joins in (glued, spelled) if any(joins)]
    if len(joinings) == 2 and joinings[0] == joinings[1]:  # no single letters in a row: one joined reading
        joinings.pop()
    return [words, *(_joined(words, joins) for joins in joinings)]


def _joined(words: list[str], joins: list[bool]) -> list[str]:
    """The words with each one whose join (with the word before it) is True appended to that word."""
    pieces = [[words[0]]]
    for word, join in zip(words[1:], joins, strict=True):
        if join:
            pieces[-1].append(word)
        else:
            pieces.append([word])
    return ["".join(piece) for piece in pieces]


@dataclass(frozen=True, slots=True)
class Term:
    """A valid term: as the moderator typed it (shown in lists), and the key matching compares (its folded words,
    one space apart), which makes two spellings of one term the same entry."""

    typed: str
    key: str


def parse_term(typed: object) -> Term:
    """A moderator's term, checked; raises InvalidTerm saying what is wrong with it."""
    cleaned = " ".join(str(typed).split()) if isinstance(typed, str) else ""
    if not cleaned:
        raise InvalidTerm("empty", MAX_TERM_CHARS)
    if len(cleaned) > MAX_TERM_CHARS:
        raise InvalidTerm("too_long", MAX_TERM_CHARS)
    words = [re.sub(r"\*+", WILDCARD, word) for word in _TERM_WORD.findall(fold(cleaned))]
    if not words or sum(len(word.replace(WILDCARD, "")) for word in words) < MIN_TERM_LETTERS:
        raise InvalidTerm("too_broad", MIN_TERM_LETTERS)
    if len(words) > MAX_TERM_WORDS:
        raise InvalidTerm("too_many_words", MAX_TERM_WORDS)
    key = " ".join(words)
    if len(key) > MAX_KEY_CHARS:  # a few characters unfold into many ("ﷺ" into 18 letters)
        raise InvalidTerm("too_long", MAX_TERM_CHARS)
    return Term(cleaned, key)


Severity = Literal["everywhere", "outside_age_restricted"]


@dataclass(frozen=True, slots=True)
class Entry:
    """One term of a server's blocklist, by its key; `sensitive` ones are refused only outside age-restricted
    channels."""

    key: str
    sensitive: bool


Filing = Literal["word", "prefix", "suffix", "anywhere"]


@dataclass(frozen=True, slots=True, eq=False)
class _Pattern:
    """An entry as matched: its words; the word it is filed under (`anchor`, counted from the first), how, and by
    what (`filed_by`: the whole word, or its letters before its first `*` or after its last); and what a text must
    hold for it to match at all: its words without a wildcard (`whole`), and the letters of the others (`pieces`)."""

    words: tuple[str, ...]
    sensitive: bool
    anchor: int
    filing: Filing
    filed_by: str
    whole: frozenset[str]
    pieces: tuple[str, ...]

    @classmethod
    def of(cls, entry: Entry) -> _Pattern:
        words = tuple(entry.key.split(" "))
        wild = [word for word in words if WILDCARD in word]
        pieces = tuple(piece for word in wild for piece in word.split(WILDCARD) if piece)
        anchor, filing, filed_by = _filing(words)
        return cls(words, entry.sensitive, anchor, filing, filed_by, frozenset(words) - set(wild), pieces)

    def could_be_in(self, words: set[str], text: str) -> bool:
        """Whether a text of these words (`text`: them, a space apart) holds all that this entry needs."""
        return self.whole <= words and all(piece in text for piece in self.pieces)


def _filing(words: tuple[str, ...]) -> tuple[int, Filing, str]:
    """Where to file an entry: under the word with the most letters to look up (the fewer prompt words share them,
    the fewer tries), a whole word before the letters a word starts with, before those it ends with."""
    options: list[tuple[int, int, int, Filing, str]] = []
    for index, word in enumerate(words):
        first, *rest = word.split(WILDCARD)
        if not rest:
            options.append((len(word), 3, -index, "word", word))
            continue
        if first:
            options.append((len(first), 2, -index, "prefix", first))
        if rest[-1]:
            options.append((len(rest[-1]), 1, -index, "suffix", rest[-1]))
    if not options:
        return 0, "anywhere", ""
    _, _, index, filing, filed_by = max(options)
    return -index, filing, filed_by


class Blocklist:
    """A set of entries, made ready to match. Each entry is filed under one of its words (_filing): as that whole
    word, or by the letters before its first `*`, or by those after its last; an entry with letters only between
    wildcards (`*ab*`) is filed nowhere. A text first rules out every entry it lacks a word or letters of; then each
    prompt word costs a look-up of itself and one per length of the letters entries are filed by, and only the
    entries left that are filed under what it is, starts with or ends with are tried there (and those filed nowhere
    at every word). `tries` counts the entries tried at a word: the work matching has done."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self._patterns = [_Pattern.of(entry) for entry in entries]
        self._filed: dict[Filing, dict[str, list[_Pattern]]] = {"word": {}, "prefix": {}, "suffix": {}}
        self._anywhere: list[_Pattern] = []
        for pattern in self._patterns:
            if pattern.filing == "anywhere":
                self._anywhere.append(pattern)
            else:
                self._filed[pattern.filing].setdefault(pattern.filed_by, []).append(pattern)
        self._lengths = {filing: sorted({len(key) for key in filed}) for filing, filed in self._filed.items()}
        self.tries = 0

    def hits(self, text: str) -> Severity | None:
        """How strictly the text is refused: "everywhere" if it holds a term refused everywhere, else
        "outside_age_restricted" if it holds a sensitive term, else None. Raises TooManyWords (when there is
        anything to match)."""
        if not self._patterns:
            return None
        found: Severity | None = None
        for words in readings(text):
            present, joined = set(words), " ".join(words)
            alive = {pattern for pattern in self._patterns if pattern.could_be_in(present, joined)}
            anywhere = [pattern for pattern in self._anywhere if pattern in alive]
            for position, word in enumerate(words if alive else ()):
                for pattern in self._candidates(word, anywhere):
                    if pattern not in alive:
                        continue
                    self.tries += 1
                    if _matches_at(words, position - pattern.anchor, pattern.words):
                        if not pattern.sensitive:
                            return "everywhere"
                        found = "outside_age_restricted"
        return found

    def _candidates(self, word: str, anywhere: list[_Pattern]) -> Iterator[_Pattern]:
        yield from self._filed["word"].get(word, ())
        for length in self._lengths["prefix"]:
            if length > len(word):
                break
            yield from self._filed["prefix"].get(word[:length], ())
        for length in self._lengths["suffix"]:
            if length > len(word):
                break
            yield from self._filed["suffix"].get(word[-length:], ())
        yield from anywhere


@lru_cache(maxsize=256)
def blocklist_of(entries: frozenset[Entry]) -> Blocklist:
    """The blocklist of these entries, built once while they stay the same (a server's rules are read on every
    /video; its blocklist changes rarely)."""
    return Blocklist(entries)


def _matches_at(words: list[str], start: int, pattern: tuple[str, ...]) -> bool:
    if start < 0 or start + len(pattern) > len(words):
        return False
    return all(_word_matches(words[start + offset], part) for offset, part in enumerate(pattern))


def _word_matches(word: str, pattern: str) -> bool:
    """Whether a whole word matches a pattern word, `*` standing for any run of characters: its fixed pieces found
    in order, leftmost first, which is exact for `*` alone and linear in the word (no backtracking)."""
    if WILDCARD not in pattern:
        return word == pattern
    first, *middle, last = pattern.split(WILDCARD)
    if len(word) < len(first) + len(last) or not word.startswith(first) or not word.endswith(last):
        return False
    position, end = len(first), len(word) - len(last)
    for piece in middle:
        found = word.find(piece, position, end)
        if found < 0:
            return False
        position = found + len(piece)
    return True
