"""Which nested datasets a selection of Enterprise reaches."""

from collections.abc import Sequence

from strawberry.types.nodes import SelectedField, Selection

from resolvers.graph import Dataset
from schema.selection import children, descend

# Enterprise fields served from each dataset.
DATASET_OF_FIELD = {
    "currentRating": Dataset.RATINGS,
    "ratingHistory": Dataset.RATINGS,
    "penalties": Dataset.PENALTIES,
    "riskLevel": Dataset.RISKS,
    "insurance": Dataset.POLICIES,
    "compulsoryInsuranceYears": Dataset.COMPULSORY,
}


def enterprise_datasets(
    enterprise_fields: Sequence[Selection],
) -> frozenset[Dataset]:
    """Datasets needed below these Enterprise selections.

    A nested item's `enterprise` is its owner, already loaded, so what is
    selected below it is needed for the owner too.
    """
    wanted: set[Dataset] = set()
    for name, selected in children(
        s for f in enterprise_fields for s in f.selections
    ).items():
        dataset = DATASET_OF_FIELD.get(name)
        if dataset is None:
            continue
        wanted.add(dataset)
        back = descend(selected, "enterprise")
        if back:
            wanted |= enterprise_datasets(back)
    return frozenset(wanted)


def connection_nodes(connection_fields: Sequence[Selection]) -> list[SelectedField]:
    """The node selections of a connection, through `edges.node` and `nodes`."""
    return descend(connection_fields, "edges", "node") + descend(
        connection_fields, "nodes"
    )


def owner_datasets(node_fields: Sequence[Selection]) -> frozenset[Dataset] | None:
    """For dataset lists: None when `enterprise` is not selected on the nodes."""
    owners = descend(node_fields, "enterprise")
    return enterprise_datasets(owners) if owners else None
