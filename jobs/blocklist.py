"""A server's blocklist: which typed terms are valid, how they are stored, and how prompts are matched against them.

Matching is case- and accent-insensitive (`fold`): letters lose their accents and tone marks, `đ` reads as `d` (which
Unicode does not decompose), invisible format characters are dropped, so `bạo lực` blocks `BAO LUC` and `Bạo Lực`. The
price of accent-insensitivity: Vietnamese words that differ only in their marks match each other (`bạo` and `bão`), so
a term of two or more words says what it means more safely than one word alone.

Both sides are cut into words (runs of letters and digits; anything else separates them), and a term matches only
whole words, in order, side by side: `kill` blocks "kill" and "KILL!" but neither "skill" nor "killing". A term is one
to MAX_TERM_WORDS words; `*` in a word stands for any run of letters and digits within that word (`kill*` also blocks
"killing" and "killer", `*kill` blocks "skill"). That is all a term can say: no regular expressions, so no term can
make matching slow: a prompt costs a few look-ups per word, and only the terms that could start at a word are tried
there (`Blocklist`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from jobs.errors import InvalidTerm

MAX_TERM_CHARS = 50
MAX_TERM_WORDS = 6
MAX_KEY_CHARS = 100
"""The folded form's length, at most: db.models' BLOCKED_TERM_CHARS."""
MIN_TERM_LETTERS = 2
"""Letters and digits a term must hold besides its wildcards: `*` or `a*` alone would refuse nearly every prompt."""
WILDCARD = "*"

TermProblem = Literal["empty", "too_long", "too_many_words", "too_broad"]

_WORD = re.compile(r"[^\W_]+")
_TERM_WORD = re.compile(r"(?:[^\W_]|\*)+")  # a word of a term: letters, digits and wildcards
# Letters that carry their mark in their shape, so NFKD leaves them whole: read as their bare letter.
_BARE_LETTERS = str.maketrans({"đ": "d", "ð": "d", "ø": "o", "ł": "l", "ħ": "h", "ı": "i", "æ": "ae", "œ": "oe"})


def fold(text: str) -> str:
    """The text as matching compares it: lower case, without accents or tone marks, `đ` as `d`, and without the
    invisible format characters (zero-width spaces, soft hyphens) that could split a word unseen."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(
        char for char in decomposed if not unicodedata.combining(char) and unicodedata.category(char) != "Cf"
    )
    return bare.translate(_BARE_LETTERS)


def words_of(text: str) -> list[str]:
    """The text's words, folded."""
    return _WORD.findall(fold(text))


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
_Pattern = tuple[tuple[str, ...], bool]
"""An entry as matched: its words, and whether it is sensitive."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One term of a server's blocklist, by its key; `sensitive` ones are refused only outside age-restricted
    channels."""

    key: str
    sensitive: bool


class Blocklist:
    """A set of entries, made ready to match. Each entry is filed under its first word's letters before any wildcard
    (the whole word when it has none), so a prompt word costs a look-up per length of those letters, and only the
    entries filed under its own first letters are tried; an entry whose first word starts with a wildcard is tried at
    every word."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self._exact: dict[str, list[_Pattern]] = {}
        self._by_prefix: dict[str, list[_Pattern]] = {}
        self._anywhere: list[_Pattern] = []
        for entry in entries:
            words = tuple(entry.key.split(" "))
            prefix = words[0].split(WILDCARD, 1)[0]
            if prefix == words[0]:
                self._exact.setdefault(prefix, []).append((words, entry.sensitive))
            elif prefix:
                self._by_prefix.setdefault(prefix, []).append((words, entry.sensitive))
            else:
                self._anywhere.append((words, entry.sensitive))
        self._prefix_lengths = sorted({len(prefix) for prefix in self._by_prefix})

    def hits(self, text: str) -> Severity | None:
        """How strictly the text is refused: "everywhere" if it holds a term refused everywhere, else
        "outside_age_restricted" if it holds a sensitive term, else None."""
        words = words_of(text)
        found: Severity | None = None
        for start, word in enumerate(words):
            for pattern, sensitive in self._candidates(word):
                if _matches_at(words, start, pattern):
                    if not sensitive:
                        return "everywhere"
                    found = "outside_age_restricted"
        return found

    def _candidates(self, word: str) -> Iterator[_Pattern]:
        yield from self._exact.get(word, ())
        for length in self._prefix_lengths:
            if length > len(word):
                break
            yield from self._by_prefix.get(word[:length], ())
        yield from self._anywhere


@lru_cache(maxsize=256)
def blocklist_of(entries: frozenset[Entry]) -> Blocklist:
    """The blocklist of these entries, built once while they stay the same (a server's rules are read on every
    /video; its blocklist changes rarely)."""
    return Blocklist(entries)


def _matches_at(words: list[str], start: int, pattern: tuple[str, ...]) -> bool:
    if start + len(pattern) > len(words):
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
