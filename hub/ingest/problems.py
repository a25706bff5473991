"""What is wrong with an import or a write, and where: row, column, field."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong. `row` is the line or sheet row as the user sees it
    (None for the file as a whole or for a single write); `column` is the
    header as written in the file; `field` the hub's name for it."""

    reason: str
    message: str
    row: int | None = None
    column: str | None = None
    field: str | None = None


class Rejected(Exception):
    """The batch is refused as a whole; nothing was written."""

    def __init__(self, problems: list[Problem], *, rows: int) -> None:
        super().__init__(f"{len(problems)} problem(s) in {rows} row(s)")
        self.problems = problems
        self.rows = rows
