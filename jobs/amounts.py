"""Numbers typed by moderators: whole numbers in a sane range, or a clear refusal."""

from __future__ import annotations

from jobs.errors import InvalidAmount


def whole_number(value: object, *, field: str, minimum: int, maximum: int) -> int:
    """`value` as an int within [minimum, maximum], else InvalidAmount.

    Discord's clients send integer options as numbers, but anything can arrive on the wire:
    digit strings are accepted, while floats, booleans, signs, exponents and words are not.
    """
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise InvalidAmount(field, minimum, maximum)
    return value
