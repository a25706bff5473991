"""The committed SDL matches the code, and the layers keep their direction."""

import ast
from pathlib import Path

import pytest

from schema.build import SDL_PATH, print_sdl

ROOT = Path(__file__).resolve().parent.parent


def test_exported_sdl_is_current() -> None:
    assert SDL_PATH.read_text(encoding="utf-8") == print_sdl(), (
        "schema/schema.graphql is stale: run `make schema` (hub export-schema) and commit it"
    )


def imported_modules(package: str) -> set[tuple[str, str]]:
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {(path.name, alias.name) for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.add((path.name, node.module))
    return found


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("schema", ("sqlalchemy", "hub.models", "hub.db", "seeds")),
        ("resolvers", ("schema", "strawberry", "seeds")),
        ("hub", ("seeds", "schema.types")),
        ("auth", ("seeds", "schema")),
    ],
)
def test_layers(package: str, forbidden: tuple[str, ...]) -> None:
    # The CLI is the composition root that seeds the demo data.
    allowed = {("cli.py", "seeds.loader")}
    offending = {
        (f, m)
        for f, m in imported_modules(package)
        if any(m == x or m.startswith(x + ".") for x in forbidden)
        and (f, m) not in allowed
    }
    assert offending == set()
