"""Assemble the schema from the per-domain query types."""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import strawberry
from graphql.execution import Executor
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from schema.audit import AuditQuery
from schema.changes import ChangesQuery
from schema.collect import CollectMutation
from schema.enterprise import EnterpriseQuery
from schema.evaluation import EvaluationMutation, EvaluationQuery
from schema.insurance import InsuranceQuery
from schema.penalty import PenaltyQuery
from schema.publication import PublicationMutation, PublicationQuery
from schema.rating import RatingQuery
from schema.red_black import RedBlackQuery
from schema.repair import RepairMutation, RepairQuery
from schema.review import ReviewQuery
from schema.risk import RiskQuery
from schema.statistics import StatisticsQuery
from schema.subscriptions import Subscription
from schema.subsidy import SubsidyQuery
from schema.watchlist import WatchlistMutation, WatchlistQuery
from schema.webhooks import WebhooksMutation, WebhooksQuery

SDL_PATH = Path(__file__).with_name("schema.graphql")

Query = merge_types(
    "Query",
    (
        EnterpriseQuery,
        RatingQuery,
        PenaltyQuery,
        RiskQuery,
        InsuranceQuery,
        AuditQuery,
        ChangesQuery,
        WatchlistQuery,
        EvaluationQuery,
        RepairQuery,
        RedBlackQuery,
        ReviewQuery,
        SubsidyQuery,
        PublicationQuery,
        WebhooksQuery,
        StatisticsQuery,
    ),
)

Mutation = merge_types(
    "Mutation",
    (
        CollectMutation,
        WatchlistMutation,
        EvaluationMutation,
        RepairMutation,
        PublicationMutation,
        WebhooksMutation,
    ),
)


def build_schema(
    *,
    extensions: Sequence[type[SchemaExtension]] = (),
    schema_class: type[strawberry.Schema] = strawberry.Schema,
    execution_context_class: type[Executor[Any]] | None = None,
) -> strawberry.Schema:
    return schema_class(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=list(extensions),
        config=StrawberryConfig(disable_field_suggestions=True),
        execution_context_class=execution_context_class,
    )


def print_sdl() -> str:
    return build_schema().as_str() + "\n"
