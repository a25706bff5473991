"""Cost expressions: a document's cost, with the parts that depend on variables.

Most of a document's cost is known once it is parsed. What is not, is how
long a list sized by a variable will be (`first: $n`, `codes: $codes`): those
parts stay symbolic, so a repeated document costs one walk over its few
variable parts per request instead of a walk over the document.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class VariableSize:
    """How many items a list answers, read from a variable.

    counted: the variable is a list (`codes: $codes`) and its length counts;
        otherwise it is an integer (`first: $n`).
    default: when the request leaves the variable out or null (the variable's
        own default, else the argument's).
    cap: the most the resolver accepts; a larger value is refused by the
        resolver itself, with its own precise error, so it costs no more.
    """

    variable: str
    counted: bool
    default: int
    cap: int | None = None

    def of(self, variables: Mapping[str, Any] | None) -> int:
        value = variables.get(self.variable) if variables else None
        if value is None:
            size = self.default
        elif self.counted:
            # A single value given for a list is coerced to a list of one.
            size = len(value) if isinstance(value, list) else 1
        elif isinstance(value, int) and not isinstance(value, bool):
            size = value
        else:  # not an Int: variable coercion refuses the request anyway
            size = self.default
        return clamp(size, self.cap)


def clamp(size: int, cap: int | None) -> int:
    size = max(size, 0)
    return size if cap is None else min(size, cap)


@dataclass(frozen=True, slots=True)
class Scaled:
    """`factor` × (items of `size`) × (cost of `each` item)."""

    factor: int
    size: VariableSize
    each: "Cost"


@dataclass(frozen=True, slots=True)
class Cost:
    """A cost: a constant plus the parts sized by variables.

    A fragment's cost is one object however often it is spread: sums merge
    parts that share a size and an item cost (by identity), and evaluation
    reads each shared cost once, so a document that spreads fragments
    exponentially stays linear to measure.
    """

    fixed: int = 0
    scaled: tuple[Scaled, ...] = ()

    def __add__(self, other: "Cost") -> "Cost":
        if not (self.scaled and other.scaled):
            return Cost(self.fixed + other.fixed, self.scaled or other.scaled)
        parts: dict[tuple[VariableSize, int], Scaled] = {}
        for part in self.scaled + other.scaled:
            key = (part.size, id(part.each))
            found = parts.get(key)
            parts[key] = (
                part
                if found is None
                else Scaled(found.factor + part.factor, part.size, part.each)
            )
        return Cost(self.fixed + other.fixed, tuple(parts.values()))

    def times(self, n: int) -> "Cost":
        return Cost(
            self.fixed * n,
            tuple(Scaled(s.factor * n, s.size, s.each) for s in self.scaled),
        )

    def per_item_of(self, size: VariableSize) -> "Cost":
        """This cost for each of the items a variable-sized list answers."""
        return Cost(0, (Scaled(1, size, self),))

    def of(self, variables: Mapping[str, Any] | None) -> int:
        """The cost of one request with these variables."""
        if not self.scaled:
            return self.fixed
        return _evaluate(self, variables, {})


def _evaluate(
    cost: Cost, variables: Mapping[str, Any] | None, seen: dict[int, int]
) -> int:
    if (found := seen.get(id(cost))) is not None:
        return found
    total = cost.fixed
    for part in cost.scaled:
        if part.factor:
            items = part.size.of(variables)
            total += part.factor * items * _evaluate(part.each, variables, seen)
    seen[id(cost)] = total
    return total


FREE = Cost()
