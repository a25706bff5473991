"""Grade bands: score thresholds, highest grade first, with no gaps or overlaps."""

from dataclasses import dataclass
from decimal import Decimal

from hub.enums import Grade
from hub.evaluate.policy_source import Table


@dataclass(frozen=True, slots=True)
class Band:
    """A grade from `min` (inclusive) up to the next higher band's min
    (exclusive); the lowest band has no min and takes every score below.
    So with GREEN min 95 and BLUE min 80, 94.5 is BLUE."""

    grade: Grade
    min: Decimal | None


def read_bands(root: Table, max_score: Decimal) -> tuple[Band, ...]:
    tables = root.tables("bands")
    if len(tables) < 2:
        raise root.error("bands", "bands must list at least two grades ([[bands]])")
    bands: list[Band] = []
    for table in tables:
        if table.has("max"):
            raise table.error(
                "max", "bands have no max: a band runs up to the next band's min"
            )
        table.allow(("grade", "min"))
        grade = table.choice("grade", Grade)
        if any(b.grade is grade for b in bands):
            raise table.error("grade", f"grade {grade.value} is listed twice")
        lowest = table is tables[-1]
        if lowest and table.has("min"):
            raise table.error(
                "min",
                f"gap: scores below {table.number('min')} would have no grade; "
                "the lowest band has no min",
            )
        if not lowest and not table.has("min"):
            raise table.error(
                None, f"band {grade.value} needs a min: only the lowest band has none"
            )
        low = None if lowest else table.number("min")
        if low is not None:
            if low > max_score:
                raise table.error(
                    "min", f"min {low} is above the maximum score {max_score}"
                )
            above = bands[-1] if bands else None
            if above is not None and above.min is not None and low >= above.min:
                raise table.error(
                    "min",
                    f"bands overlap: {grade.value} min {low} is not below "
                    f"{above.grade.value} min {above.min} (list the highest grade first)",
                )
        bands.append(Band(grade, low))
    return tuple(bands)


def grade_for(bands: tuple[Band, ...], score: Decimal) -> Grade:
    for band in bands:
        if band.min is None or score >= band.min:
            return band.grade
    raise AssertionError("the lowest band has no min")  # read_bands ensures it
