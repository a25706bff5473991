"""Write mutations (归集): record or correct one record, or import a file."""

import dataclasses
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Annotated, Any

import strawberry
from strawberry.file_uploads import Upload

from auth.scopes import Scope
from hub.enums import Dataset
from resolvers import collect as resolve
from schema.collect_inputs import (
    EmissionsInput,
    EnterpriseInput,
    EventInput,
    InsurancePolicyInput,
    PenaltyInput,
    RiskAssessmentInput,
)
from schema.directives import requires
from schema.types import Info


@strawberry.enum(description="What a write did.")
class WriteOutcome(Enum):
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    UNCHANGED = "UNCHANGED"  # the same record was already stored


@strawberry.type(description="The result of recording or correcting one record.")
class WriteResult:
    outcome: WriteOutcome
    id: strawberry.ID = strawberry.field(description="The record's id.")
    batch_id: int | None = strawberry.field(
        description="The collection batch that wrote it; null when nothing changed."
    )
    grade_changes: int = strawberry.field(
        description="Grades moved at once by this record (dynamic management)."
    )

    @classmethod
    def of(cls, done: resolve.WriteOutcome) -> "WriteResult":
        return cls(
            outcome=WriteOutcome(done.outcome),
            id=strawberry.ID(str(done.id)),
            batch_id=done.batch_id,
            grade_changes=done.grade_changes,
        )


@strawberry.type(description="What an imported file did; nothing is written on error.")
class ImportReport:
    rows: int = strawberry.field(description="Data rows in the file.")
    created: int
    updated: int
    unchanged: int = strawberry.field(description="Rows already stored as they are.")
    batch_id: int | None = strawberry.field(description="Null when nothing changed.")
    dry_run: bool = strawberry.field(description="Checked only; nothing written.")
    format: str = strawberry.field(description="csv or xlsx.")
    encoding: str | None = strawberry.field(description="Detected CSV encoding.")
    sha256: str = strawberry.field(description="Digest of the file as received.")
    ignored_columns: list[str] = strawberry.field(
        description="Columns the hub does not collect, left out."
    )
    grade_changes: int = strawberry.field(
        description="Grades moved at once by the new records (dynamic management)."
    )


def _fields(value: object) -> dict[str, object]:
    return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}  # type: ignore[arg-type]


async def _report(
    info: Info,
    dataset: Dataset,
    file: Upload,
    allow_updates: bool,
    dry_run: bool,
    *,
    insurance: bool = False,
) -> ImportReport:
    done = await resolve.import_upload(
        info.context,
        dataset,
        file,
        allow_updates=allow_updates,
        dry_run=dry_run,
        insurance=insurance,
    )
    return ImportReport(**dataclasses.asdict(done))


def _record(
    dataset: Dataset, input_type: type
) -> Callable[..., Awaitable[WriteResult | None]]:
    async def record(info: Info, input: input_type) -> WriteResult | None:  # type: ignore[valid-type]
        done = await resolve.write_record(info.context, dataset, _fields(input))
        return WriteResult.of(done)

    return record


def _correct(
    dataset: Dataset, input_type: type
) -> Callable[..., Awaitable[WriteResult | None]]:
    async def correct(
        info: Info,
        input: input_type,  # type: ignore[valid-type]
        reason: Annotated[str, strawberry.argument(description="Why (更正原因).")],
    ) -> WriteResult | None:
        done = await resolve.write_record(
            info.context, dataset, _fields(input), correction_reason=reason
        )
        return WriteResult.of(done)

    return correct


def _mutations(
    dataset: Dataset, input_type: type, scope: Scope, noun: str
) -> tuple[Any, Any]:
    """The record and correct mutations of one dataset."""
    return (
        strawberry.mutation(
            resolver=_record(dataset, input_type),
            directives=requires(scope),
            description=f"Record {noun}; the same record again changes nothing, "
            "a different one under the same key is refused (CONFLICT).",
        ),
        strawberry.mutation(
            resolver=_correct(dataset, input_type),
            directives=requires(scope),
            description=f"Correct {noun} already recorded; the previous values are kept.",
        ),
    )


UPDATES = "Replace stored records whose values differ; otherwise they are refused as conflicts."
DRY_RUN = "Check the whole file and report; write nothing."


@strawberry.type
class CollectMutation:
    record_enterprise, correct_enterprise = _mutations(
        Dataset.ENTERPRISES, EnterpriseInput, Scope.data_write, "an enterprise (企业)"
    )
    record_penalty, correct_penalty = _mutations(
        Dataset.PENALTIES,
        PenaltyInput,
        Scope.data_write,
        "a penalty decision (行政处罚决定)",
    )
    record_risk_assessment, correct_risk_assessment = _mutations(
        Dataset.RISK,
        RiskAssessmentInput,
        Scope.data_write,
        "a risk assessment (环境风险等级)",
    )
    record_insurance_policy, correct_insurance_policy = _mutations(
        Dataset.INSURANCE,
        InsurancePolicyInput,
        Scope.insurance_write,
        "an insurance policy (环责险)",
    )
    record_emissions, correct_emissions = _mutations(
        Dataset.EMISSIONS,
        EmissionsInput,
        Scope.data_write,
        "a year's emissions (年排放量)",
    )
    record_event, correct_event = _mutations(
        Dataset.EVENTS,
        EventInput,
        Scope.data_write,
        "an environmental event (环境信用事件)",
    )

    @strawberry.mutation(
        directives=requires(Scope.data_write),
        description="Import a CSV or XLSX file (UTF-8 or GB18030; Chinese or English "
        "headers; 万元 or 元 named in the header): every row lands, or none. "
        "Insurance lists go through importInsurancePolicies.",
    )
    async def import_records(
        self,
        info: Info,
        dataset: Dataset,
        file: Upload,
        allow_updates: Annotated[
            bool, strawberry.argument(description=UPDATES)
        ] = False,
        dry_run: Annotated[bool, strawberry.argument(description=DRY_RUN)] = False,
    ) -> ImportReport | None:
        return await _report(info, dataset, file, allow_updates, dry_run)

    @strawberry.mutation(
        directives=requires(Scope.insurance_write),
        description="Import an insurance enrollment list (环责险投保清单) as CSV or XLSX; "
        "an insurer submits only its own policies.",
    )
    async def import_insurance_policies(
        self,
        info: Info,
        file: Upload,
        allow_updates: Annotated[
            bool, strawberry.argument(description=UPDATES)
        ] = False,
        dry_run: Annotated[bool, strawberry.argument(description=DRY_RUN)] = False,
    ) -> ImportReport | None:
        return await _report(
            info, Dataset.INSURANCE, file, allow_updates, dry_run, insurance=True
        )
