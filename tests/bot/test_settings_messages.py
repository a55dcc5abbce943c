"""/settings' answers: a full blocklist is listed whole, in as few messages as Discord's limit allows, and a term
shows as typed without turning into markdown or a mention."""

from __future__ import annotations

from bot.exts.settings import MESSAGE_LIMIT, blocklist_lines, settings_message, split_lines
from jobs.blocklist import MAX_TERM_CHARS, parse_term
from jobs.default_blocklist import REFUSED_EVERYWHERE, REFUSED_OUTSIDE_AGE_RESTRICTED
from jobs.server_rules import MAX_BLOCKED_TERMS, ListedTerm, ServerRules


def term(number: int, *, sensitive: bool) -> ListedTerm:
    typed = f"{number:03d}, " + "x" * (MAX_TERM_CHARS - 5)  # as long as a term can be, with a comma of its own
    return ListedTerm(typed, parse_term(typed).key, sensitive)


def test_the_longest_blocklist_is_listed_whole_within_discords_message_limit() -> None:
    terms = tuple(term(number, sensitive=number % 3 == 0) for number in range(MAX_BLOCKED_TERMS))
    messages = split_lines(blocklist_lines(ServerRules(terms=terms, default_blocklist=True), "en-US"))

    assert all(len(message) <= MESSAGE_LIMIT for message in messages)
    assert all(len(message) > MESSAGE_LIMIT - 2 * MAX_TERM_CHARS for message in messages[:-1])  # each one filled
    listed = "\n".join(messages)
    assert [listed.count(f"`{listed_term.term}`") for listed_term in terms] == [1] * MAX_BLOCKED_TERMS
    assert all(f"`{default}`" in listed for default in (*REFUSED_EVERYWHERE, *REFUSED_OUTSIDE_AGE_RESTRICTED))


def test_a_term_is_shown_as_typed_and_cannot_break_out_of_its_code_span() -> None:
    typed = "`@everyone` **bold**"
    rules = ServerRules(terms=(ListedTerm(typed, parse_term(typed).key, sensitive=False),))
    [message] = split_lines(blocklist_lines(rules, "en-US"))
    assert "Everywhere: `'@everyone' **bold**`" in message
    assert "The built-in list is off" in message


def test_the_settings_at_a_glance() -> None:
    rules = ServerRules(
        channel_ids=frozenset({2, 1}),
        default_blocklist=True,
        disabled_presets=frozenset({"wan-14b"}),
        max_duration_seconds=1,
    )
    assert settings_message(rules, "en-US").splitlines() == [
        "**Safety settings in this server**",
        "/video: only in <#1>, <#2> and their threads",
        "Blocklist: 0 terms of this server's · built-in list on",
        "Presets turned off here: `wan-14b`",
        "Presets marked sensitive: not allowed",
        "Longest clip: 1 second · most steps: the preset's own",
    ]
