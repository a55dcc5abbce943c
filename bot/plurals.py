"""What a message catalogue is made of: plain format strings, and plurals whose form Babel chooses.

A Plural has one form per CLDR plural category its language distinguishes, and "other" always: a count whose
category the entry has no form for reads as "other". So a language without plural forms of words (Vietnamese)
writes plain strings, and English writes "one" and "other".
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType


class Plural:
    """Words that change with a count: one form per CLDR plural category the language has, "other" always."""

    __slots__ = ("by", "forms")

    def __init__(self, by: str, **forms: str) -> None:
        if "other" not in forms:
            raise ValueError("a plural needs its 'other' form")
        self.by = by
        """The parameter whose value chooses the form."""
        self.forms: Mapping[str, str] = MappingProxyType(forms)


Entry = str | Plural
Catalogue = Mapping[str, Entry]
