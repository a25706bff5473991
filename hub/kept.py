"""Per-schema state kept on the schema object itself.

A module-level dict keyed by a schema (even a WeakKeyDictionary) keeps that
schema alive as soon as the value refers back to it, as an authorizer, a
guard or a plan does: a test suite that builds hundreds of apps then holds
hundreds of schemas. Kept on the object, the state goes with it.
"""

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def kept_on(owner: object, name: str, make: Callable[[], T]) -> T:
    """`owner`'s value under `name`, made by `make` on first use."""
    state = vars(owner)
    found = state.get(name)
    if found is None:
        found = state[name] = make()
    return found
