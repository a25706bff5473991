"""Where a key of a TOML file is written: a table path to its line number."""

import re

# A path into the parsed document, e.g. ("deductions", 3, "points"): table
# names and keys as strings, array-of-tables elements as 0-based indices.
KeyPath = tuple[str | int, ...]

_HEADER = re.compile(r"^\s*(\[\[?)([^\[\]]+)\]\]?\s*(?:#.*)?$")
_BARE_OR_QUOTED = r'(?:[A-Za-z0-9_-]+|"[^"]*"|\'[^\']*\')'
_KEY = re.compile(rf"^\s*({_BARE_OR_QUOTED}(?:\s*\.\s*{_BARE_OR_QUOTED})*)\s*=")


def line_of(text: str, at: KeyPath) -> int:
    """The line (1-based) where `at` is written, or where its nearest written
    parent is: a missing key points at its table's header, a bad list
    element at the list's key, anything at the top of the file at line 1."""
    lines = _key_lines(text)
    path = at
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return 1


def _names(dotted: str) -> tuple[str, ...]:
    # Good enough for policy files: a quoted name containing a dot is not
    # split correctly, and such names are not used.
    return tuple(part.strip().strip("\"'") for part in dotted.split("."))


def _key_lines(text: str) -> dict[KeyPath, int]:
    """Every table header and key line of the file, first occurrence wins.

    A best-effort scan, not a parser: it is run only on files tomllib has
    already accepted, so the lines it sees are well formed. Lines inside
    multi-line strings or arrays never start with `key =` in policy files.
    """
    found: dict[KeyPath, int] = {}
    # Current element of each array of tables, by its dotted name.
    current: dict[tuple[str, ...], int] = {}
    # How many elements each array of tables has, by resolved path.
    counts: dict[KeyPath, int] = {}
    table: KeyPath = ()
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            names = _names(header.group(2))
            if header.group(1) == "[[":
                parent = _resolve(names[:-1], current)
                array = (*parent, names[-1])
                index = counts.get(array, 0)
                counts[array] = index + 1
                found.setdefault(array, number)
                # A new element starts fresh: its sub-arrays have no element yet.
                for stale in [k for k in current if k[: len(names)] == names]:
                    del current[stale]
                current[names] = index
                table = (*array, index)
            else:
                table = _resolve(names, current)
            found.setdefault(table, number)
            continue
        key = _KEY.match(line)
        if key:
            found.setdefault((*table, *_names(key.group(1))), number)
    return found


def _resolve(names: tuple[str, ...], current: dict[tuple[str, ...], int]) -> KeyPath:
    path: list[str | int] = []
    for depth, name in enumerate(names, start=1):
        path.append(name)
        if names[:depth] in current:
            path.append(current[names[:depth]])
    return tuple(path)
