"""The datasets nested under Enterprise, and how each is read (resolvers/graph.py)."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from resolvers.access import AnySelect
from resolvers.context import Context
from resolvers.views import EnterpriseView


class Dataset(Enum):
    """A dataset nested under Enterprise that a selection may reach."""

    RATINGS = "ratings"
    # Only what currentRating picks without arguments: the official scheme's
    # published grade in force today. A selection that needs any other
    # rating asks for RATINGS, which serves this too.
    RATING_IN_FORCE = "rating in force"
    PENALTIES = "penalties"
    RISKS = "risks"
    POLICIES = "policies"
    COMPULSORY = "compulsory"


@dataclass(frozen=True, slots=True)
class Source:
    """How one nested dataset is read and hung on its enterprise."""

    dataset: Dataset
    select: Callable[[Context], AnySelect]
    enterprise_id: Any  # the dataset's enterprise_id column
    order: tuple[tuple[str, bool], ...]  # (column name, descending): newest first
    attach: Callable[[dict[int, EnterpriseView], Sequence[Any]], None]
