"""A secret split over attributes whose names differ only by a part number (`config.key.part1` and
`config.key.part2`, `token.0` and `token.1`, `key[0]` and `key[1]`): the parts joined in their order, as whoever
split them joins them again, and scanned as one text.

Only secrets are looked for in the joined text, not personal data: two order numbers joined can pass a card
number's check digit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bridge.processors.encoded import encoded_values
from bridge.processors.sensitive import SECRETS, sensitive_values

# A name, then `part` and a number, or a number after `.`, `_`, `-` or in brackets.
_PART = re.compile(r"(?i)(.+?)(?:[._-]?part[._-]?|[._-]|\[)(\d{1,3})\]?")
PART_NUMBER_ENDS = frozenset("0123456789]")  # how such a name ends


def part_groups(attributes: Mapping[str, Any]) -> list[list[str]]:
    """The keys of each text split into parts, in their order: two or more text values under names that differ
    only by their part numbers, numbered one after another from 0 or 1."""
    groups: dict[str, dict[int, str]] = {}
    for key, value in attributes.items():
        if isinstance(value, str) and key[-1:] in PART_NUMBER_ENDS:
            match = _PART.fullmatch(key)
            if match is not None:
                groups.setdefault(match[1].lower(), {})[int(match[2])] = key
    found = []
    for numbered in groups.values():
        numbers = sorted(numbered)
        if len(numbers) >= 2 and numbers[0] <= 1 and numbers[-1] - numbers[0] == len(numbers) - 1:
            found.append([numbered[number] for number in numbers])
    return found


def split_secrets(parts: list[str]) -> list[list[str]]:
    """For each part, the pieces it holds of secrets that only the parts joined show (a secret within one part is
    found by that part's own scan)."""
    joined = "".join(parts)
    ends = [0]
    for part in parts:
        ends.append(ends[-1] + len(part))
    found = sensitive_values(joined, personal=False, exempt_examples=False)
    found.update(encoded_values(joined, personal=False, exempt_examples=False))
    pieces: list[list[str]] = [[] for _ in parts]
    for value, kind in found.items():
        if kind not in SECRETS:
            continue
        at = joined.find(value)
        while at != -1:
            end = at + len(value)
            holding = [index for index in range(len(parts)) if ends[index] < end and at < ends[index + 1]]
            if len(holding) > 1:
                for index in holding:
                    pieces[index].append(joined[max(at, ends[index]) : min(end, ends[index + 1])])
            at = joined.find(value, at + 1)
    return pieces
