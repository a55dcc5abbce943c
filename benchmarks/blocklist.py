"""How long does the blocklist take on hostile input, on the event loop?

A full server list (100 terms built to be slow: `*kill<n> word`, `*kill*<n>*`, `kill*<n> a`) with the built-in
list on, against the prompts that were slow before: 1000 × ﷺ (one character, four words: refused as too long), 250 × ﷺ
(the most words a prompt may fold into), and prompts of a repeated word each list is filed under. Prints the
slowest time per prompt in milliseconds, and the most tries (entries checked at a word) one list took for all the
prompts.

    .venv/bin/python benchmarks/blocklist.py [--repeats 20]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jobs.blocklist import MAX_WORDS, Blocklist, Entry, TooManyWords, parse_term
from jobs.default_blocklist import DEFAULT_ENTRIES
from jobs.server_rules import MAX_BLOCKED_TERMS

LISTS = ("*kill{} word", "*kill*{}*", "kill*{} a")
PROMPTS = (
    "\ufdfa" * 1000,  # refused as too long
    "\ufdfa" * (MAX_WORDS // 4),
    "word " * 200,
    "a " * 500,
    "kill 1 " * 142,
    "p o r n " * 125,
)


def blocklist(pattern: str) -> Blocklist:
    terms = [Entry(parse_term(pattern.format(number)).key, sensitive=False) for number in range(MAX_BLOCKED_TERMS)]
    return Blocklist([*terms, *DEFAULT_ENTRIES])


def timed(matching: Blocklist, prompt: str, repeats: int) -> float:
    started = time.perf_counter()
    for _ in range(repeats):
        try:
            matching.hits(prompt)
        except TooManyWords:
            pass
    return (time.perf_counter() - started) / repeats * 1000


def main(repeats: int) -> None:
    slowest, tries = 0.0, 0
    for pattern in LISTS:
        matching = blocklist(pattern)
        for prompt in PROMPTS:
            slowest = max(slowest, timed(matching, prompt, repeats))
        tries = max(tries, matching.tries // repeats)
    print(f"blocklist_slowest_prompt_ms={slowest:.2f}")
    print(f"blocklist_most_tries_per_list={tries}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=20)
    main(parser.parse_args().repeats)
