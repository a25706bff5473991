"""A policy file read table by table: typed values, and errors that name the line."""

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import TypeVar

from hub.evaluate.toml_lines import KeyPath, line_of

E = TypeVar("E", bound=Enum)

_AT_LINE = re.compile(r"\s*\(at line (\d+), column \d+\)$")
_AT_END = re.compile(r"\s*\(at end of document\)$")


class PolicyError(Exception):
    """A policy file the hub refuses to start with."""

    def __init__(self, path: Path, line: int | None, reason: str) -> None:
        super().__init__(path, line, reason)
        self.path = path
        self.line = line
        self.reason = reason

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.path}: {self.reason}"
        return f"{self.path}:{self.line}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Source:
    path: Path
    text: str

    def error(self, at: KeyPath, reason: str) -> PolicyError:
        return PolicyError(self.path, line_of(self.text, at), reason)


def read_document(path: Path) -> "Table":
    """Parse a TOML file; a syntax error becomes a PolicyError at its line."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PolicyError(path, None, f"cannot read the file: {exc.strerror}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise PolicyError(path, line, "the file is not UTF-8") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        at_line = _AT_LINE.search(message)
        if at_line:
            line = int(at_line.group(1))
            message = message[: at_line.start()]
        else:
            line = text.count("\n") + 1
            message = _AT_END.sub("", message)
        raise PolicyError(path, line, f"TOML syntax: {message}") from exc
    return Table(Source(path, text), data, ())


class Table:
    """One table of the file, read key by key with the type each key needs."""

    def __init__(self, source: Source, data: dict[str, object], at: KeyPath) -> None:
        self.source = source
        self.at = at
        self._data = data

    def error(self, key: str | None, reason: str) -> PolicyError:
        return self.source.error(self.at if key is None else (*self.at, key), reason)

    def has(self, key: str) -> bool:
        return key in self._data

    def allow(self, keys: Iterable[str]) -> None:
        """Refuse any other key: a typo must not be silently ignored. Called
        before the reads, so a misspelt key is reported as itself rather
        than as the required key it failed to be."""
        known = set(keys)
        for key in self._data:
            if key not in known:
                listed = ", ".join(sorted(known))
                raise self.error(
                    key, f"unknown key {key!r} (expected one of: {listed})"
                )

    def _get(self, key: str) -> object:
        if key not in self._data:
            raise self.error(None, f"missing key {key!r}")
        return self._data[key]

    def _wrong(self, key: str, expected: str, value: object) -> PolicyError:
        return self.error(key, f"{key} must be {expected}, not {_kind(value)}")

    def text(self, key: str) -> str:
        value = self._get(key)
        if not isinstance(value, str) or not value.strip():
            raise self._wrong(key, "a non-empty string", value)
        return value

    def integer(self, key: str) -> int:
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._wrong(key, "a whole number", value)
        return value

    def number(self, key: str) -> Decimal:
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._wrong(key, "a number", value)
        # str() first: Decimal(0.1) would carry the float's binary error.
        return Decimal(str(value))

    def day(self, key: str) -> date:
        value = self._get(key)
        if isinstance(value, datetime) or not isinstance(value, date):
            raise self._wrong(key, "a date like 2020-01-01 (no quotes)", value)
        return value

    def flag(self, key: str) -> bool:
        value = self._get(key)
        if not isinstance(value, bool):
            raise self._wrong(key, "true or false", value)
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        items = self._list(key)
        for index, item in enumerate(items):
            if not isinstance(item, str) or not item.strip():
                raise self.source.error(
                    (*self.at, key, index),
                    f"{key} must list non-empty strings, not {_kind(item)}",
                )
        return tuple(str(item) for item in items)

    def choice(self, key: str, enum: type[E]) -> E:
        return _choose(self, key, enum, self.text(key), (*self.at, key))

    def choices(self, key: str, enum: type[E]) -> frozenset[E]:
        names = self.texts(key)
        return frozenset(
            _choose(self, key, enum, name, (*self.at, key, index))
            for index, name in enumerate(names)
        )

    def tables(self, key: str) -> list["Table"]:
        """An array of tables (`[[key]]`); absent means none."""
        if not self.has(key):
            return []
        items = self._list(key)
        if not all(isinstance(item, dict) for item in items):
            raise self.error(key, f"{key} must be a list of tables ([[{key}]])")
        return [
            Table(self.source, item, (*self.at, key, index))
            for index, item in enumerate(items)
            if isinstance(item, dict)
        ]

    def table(self, key: str) -> "Table":
        value = self._get(key)
        if not isinstance(value, dict):
            raise self._wrong(key, f"a table ([...{key}])", value)
        return Table(self.source, value, (*self.at, key))

    def _list(self, key: str) -> list[object]:
        value = self._get(key)
        if not isinstance(value, list):
            raise self._wrong(key, "a list", value)
        if not value:
            raise self.error(key, f"{key} must not be empty")
        return value


def _choose(table: Table, key: str, enum: type[E], name: str, at: KeyPath) -> E:
    try:
        return enum(name)
    except ValueError:
        known = ", ".join(str(member.value) for member in enum)
        raise table.source.error(
            at, f"unknown {key} {name!r} (expected one of: {known})"
        ) from None


def _kind(value: object) -> str:
    names = {str: "a string", bool: "a boolean", int: "a whole number"}
    names |= {float: "a number", list: "a list", dict: "a table"}
    if isinstance(value, datetime):
        return "a date-time"
    if isinstance(value, date):
        return "a date"
    return names.get(type(value), type(value).__name__)
