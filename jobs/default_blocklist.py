"""The built-in blocklist a server can switch on (`/settings blocklist default`), on top of its own terms.

It is deliberately short: it covers sexual content involving children, refused everywhere, and sexual content and
gore, refused outside age-restricted channels. It is not a content filter (a model can be led to anything by words
no list foresees) but a floor that catches the obvious requests, in English and Vietnamese, without catching innocent
prompts: each Vietnamese term is a phrase whose folded letters (jobs.blocklist.fold) have no common innocent reading.
Terms follow jobs.blocklist's rules (whole words, `*` within a word); a server adds its own with
`/settings blocklist add`. `/settings blocklist list` shows the two lists as written here; matching uses their
entries (DEFAULT_ENTRIES).
"""

from __future__ import annotations

from jobs.blocklist import Entry, parse_term

REFUSED_EVERYWHERE = (
    # sexual content involving children
    "child porn*",
    "child sex*",
    "child nude*",
    "underage sex*",
    "underage nude*",
    "csam",
    "pedophil*",
    "paedophil*",
    "khiêu dâm trẻ em",  # child pornography
    "tình dục trẻ em",  # sex with children
    "trẻ em khỏa thân",  # naked children
)
REFUSED_OUTSIDE_AGE_RESTRICTED = (
    # sexual content
    "porn*",
    "nsfw",
    "nude",
    "nudes",
    "nudity",
    "hentai",
    "sex",
    "sexual intercourse",
    "khiêu dâm",  # pornographic
    "tình dục",  # sexual
    # gore
    "gore",
    "dismember*",
    "disembowel*",
)

DEFAULT_ENTRIES = frozenset(
    {Entry(parse_term(term).key, sensitive=False) for term in REFUSED_EVERYWHERE}
    | {Entry(parse_term(term).key, sensitive=True) for term in REFUSED_OUTSIDE_AGE_RESTRICTED}
)
