"""What a dataset's columns are: names, accepted headers, parsers, units."""

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum

from hub.ingest.table import Cell
from hub.ingest.values import MoneyUnit


class UnitKind(Enum):
    """A column whose header must name its unit (a ×10,000 error otherwise)."""

    MONEY = "MONEY"  # yuan or 万元
    MASS = "MASS"  # tonnes or kilograms


@dataclass(frozen=True, slots=True)
class Env:
    """What a parser needs besides the cell: today, and the column's unit."""

    today: date
    money: MoneyUnit = MoneyUnit.YUAN
    mass_factor: Decimal = Decimal(1)  # to tonnes


Parser = Callable[[Cell, Env], object]


@dataclass(frozen=True, slots=True)
class Field:
    """One input field. `name` is the model column (or a pseudo field such as
    `enterprise_code`); `label` names it in messages; `headers` are the
    accepted column titles, Chinese (双公示 templates) and English."""

    name: str
    label: str
    headers: tuple[str, ...]
    parse: Parser
    required: bool = False
    unit: UnitKind | None = None

    @property
    def input_name(self) -> str:
        """The GraphQL input field: camelCase of the name."""
        head, *rest = self.name.split("_")
        return head + "".join(part.capitalize() for part in rest)


MONEY_UNITS = {
    "元": MoneyUnit.YUAN,
    "人民币元": MoneyUnit.YUAN,
    "yuan": MoneyUnit.YUAN,
    "cny": MoneyUnit.YUAN,
    "万元": MoneyUnit.WAN_YUAN,
    "万": MoneyUnit.WAN_YUAN,
    "10kyuan": MoneyUnit.WAN_YUAN,
    "10000yuan": MoneyUnit.WAN_YUAN,
    "wanyuan": MoneyUnit.WAN_YUAN,
}
MASS_UNITS = {
    "吨": Decimal(1),
    "t": Decimal(1),
    "tonnes": Decimal(1),
    "tons": Decimal(1),
    "千克": Decimal("0.001"),
    "公斤": Decimal("0.001"),
    "kg": Decimal("0.001"),
}
# Longest first, so "10kyuan" wins over "yuan" as a suffix of "fineamount10kyuan".
_SUFFIXES = sorted([*MONEY_UNITS, *MASS_UNITS], key=len, reverse=True)
_PARENTHESISED = re.compile(r"^(.*?)[(\[]([^()\[\]]*)[)\]]$")
_NOISE = re.compile(r"[\s_\-]+")


def normalise_header(text: str) -> str:
    """NFKC (full-width brackets become ASCII), case-folded, without spaces,
    underscores or hyphens: 罚款金额（万元） → 罚款金额(万元); Fine_Amount → fineamount."""
    return _NOISE.sub("", unicodedata.normalize("NFKC", text).casefold())


def split_unit(header: str) -> tuple[str, str | None]:
    """A normalised header as (base, unit): 罚款金额(万元) → (罚款金额, 万元)."""
    found = _PARENTHESISED.match(header)
    if found:
        return found.group(1), found.group(2)
    return header, None


def unit_suffix(header: str) -> tuple[str, str] | None:
    """An English header with its unit at the end: fineamountyuan → (fineamount, yuan)."""
    for suffix in _SUFFIXES:
        if header.endswith(suffix) and len(header) > len(suffix):
            return header[: -len(suffix)], suffix
    return None
