"""Evaluation (评价): who is listed, runs, and what a score is made of."""

from datetime import date

import strawberry

from auth.scopes import Scope
from hub.enums import Scheme
from resolvers import evaluate as resolve
from schema.directives import requires
from schema.types import Info


@strawberry.type(description="An enterprise on a year's evaluation list, and why.")
class ListedEnterprise:
    code: str
    name: str
    district_code: str
    reasons: list[str] = strawberry.field(
        description="National key monitoring, or each pollutant's ranking."
    )


@strawberry.type(description="One evaluation run: PRELIMINARY grades for review.")
class EvaluationRunResult:
    id: int
    scheme: Scheme
    policy_version: str
    year: int
    as_of: date = strawberry.field(description="The date the score is taken on.")
    listed: int
    rated: int
    not_rated: int = strawberry.field(description="Closed or suspended: 不予评价.")
    replaced: int = strawberry.field(
        description="Grades of an earlier run of the same year revoked."
    )


@strawberry.type(description="One line of a score's explanation.")
class ExplanationLine:
    rule: str = strawberry.field(description="The rule's code in the policy file.")
    label: str
    points: str = strawberry.field(description="Signed points (decimal string).")
    records: list[str] = strawberry.field(
        description="The records behind it, as DATASET:id (PENALTY:12, EVENT:3)."
    )
    note: str


@strawberry.type
class EvaluationQuery:
    @strawberry.field(
        directives=requires(Scope.ratings_evaluate),
        description="Who is evaluated for a year (参评名单), within the caller's "
        "jurisdiction, with the reasons.",
    )
    async def evaluation_list(
        self, info: Info, year: int
    ) -> list[ListedEnterprise] | None:
        listed = await resolve.list_for_year(info.context, year=year)
        return [
            ListedEnterprise(
                code=i.code,
                name=i.name,
                district_code=i.district_code,
                reasons=i.reasons,
            )
            for i in listed
        ]

    @strawberry.field(
        directives=requires(Scope.ratings_history),
        description="What a grade's score is made of; null when not visible.",
    )
    async def rating_explanation(
        self, info: Info, rating_id: strawberry.ID
    ) -> list[ExplanationLine] | None:
        lines = await resolve.explain(info.context, rating_id=_id(rating_id))
        if lines is None:
            return None
        return [
            ExplanationLine(
                rule=line.rule,
                label=line.label,
                points=line.points,
                records=[f"{kind}:{id_}" for kind, id_ in line.records],
                note=line.note,
            )
            for line in lines
        ]


@strawberry.type
class EvaluationMutation:
    @strawberry.mutation(
        directives=requires(Scope.ratings_evaluate),
        description="Evaluate a year under a scheme: PRELIMINARY grades with "
        "explanations for every listed enterprise of the caller's jurisdiction.",
    )
    async def evaluate(
        self, info: Info, scheme: Scheme, year: int
    ) -> EvaluationRunResult | None:
        run = await resolve.evaluate_year(info.context, scheme=scheme, year=year)
        return EvaluationRunResult(
            id=run.id,
            scheme=run.scheme,
            policy_version=run.policy_version,
            year=run.year,
            as_of=run.as_of,
            listed=run.listed,
            rated=run.rated,
            not_rated=run.not_rated,
            replaced=run.replaced,
        )


def _id(value: strawberry.ID) -> int:
    text = str(value)
    return int(text) if text.isascii() and text.isdigit() else -1
