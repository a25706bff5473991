"""Which nested datasets a selection of Enterprise reaches."""

from collections import OrderedDict
from collections.abc import Sequence

import strawberry
from strawberry.types.nodes import SelectedField, Selection

from resolvers.datasets import Dataset
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

    `currentRating` without arguments needs only the rating in force
    (Dataset.RATING_IN_FORCE); any other rating field, or arguments (a
    variable even when null: this is decided once per document), need
    every rating the caller may see, which serves it too.
    """
    wanted = _datasets(enterprise_fields)
    if Dataset.RATINGS in wanted:
        return wanted - {Dataset.RATING_IN_FORCE}
    return wanted


def _datasets(enterprise_fields: Sequence[Selection]) -> frozenset[Dataset]:
    """A nested item's `enterprise` is its owner, already loaded, so what is
    selected below it is needed for the owner too."""
    wanted: set[Dataset] = set()
    for name, selected in children(
        s for f in enterprise_fields for s in f.selections
    ).items():
        dataset = DATASET_OF_FIELD.get(name)
        if dataset is None:
            continue
        if name == "currentRating" and not any(f.arguments for f in selected):
            dataset = Dataset.RATING_IN_FORCE
        wanted.add(dataset)
        back = descend(selected, "enterprise")
        if back:
            wanted |= _datasets(back)
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


_CACHE_SIZE = 2048
# key: ids of the field nodes and fragments; the value keeps them alive, so
# an id cannot be reused by another node while its entry exists.
_WANTED: "OrderedDict[tuple[bool | int, ...], tuple[tuple[object, ...], frozenset[Dataset]]]" = OrderedDict()


def selected_datasets(
    info: strawberry.Info, *, page: bool = False
) -> frozenset[Dataset]:
    """enterprise_datasets of the field's own selection (with `page`, of the
    nodes of the connection the field returns), cached per document.

    Converting a selection with strawberry's `selected_fields` costs more than
    the rest of a single lookup's GraphQL work; the answer depends only on
    the document (parsed once and cached), not on variables.
    """
    raw = info._raw_info
    anchors = (*raw.field_nodes, *raw.fragments.values())
    key = (page, *(id(a) for a in anchors))
    hit = _WANTED.get(key)
    if hit is not None:
        _WANTED.move_to_end(key)
        return hit[1]
    fields = info.selected_fields
    wanted = enterprise_datasets(connection_nodes(fields) if page else fields)
    _WANTED[key] = (anchors, wanted)
    if len(_WANTED) > _CACHE_SIZE:
        _WANTED.popitem(last=False)
    return wanted
