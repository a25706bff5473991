"""POST /subsidy/eligibility.{csv,xlsx}: an application list in, a report out.

For agencies that check a whole subsidy round at once (信用基准评价): the
list is a multipart upload (`file`, .csv in UTF-8 or GB18030, or .xlsx), the
answer the report in the asked format. The same bearer token, Hub-Purpose
and row rules as /graphql; the audit entry names every enterprise checked.
"""

from datetime import date
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from auth.caller import Caller
from auth.purpose import purpose_case_ref, stated_purpose
from auth.scopes import Purpose, Scope
from hub.audit.draft import AuditDraft, draft_of
from hub.config import Settings
from hub.evaluate.loading import Policies
from hub.export_files import MEDIA_TYPES, FileFormat
from hub.graphql import caller_of
from hub.ingest.table import FileRejected
from hub.review.applications import Application, read_applications, write_report
from hub.review.rulebook import Rulebook
from hub.route_errors import refused
from resolvers.context import cst_date
from resolvers.errors import BadUserInput, Forbidden
from resolvers.exports import parse_as_of
from resolvers.review import Reviewer
from resolvers.subsidy import check_eligibility, report_line

FORMATS = {"csv": FileFormat.CSV, "xlsx": FileFormat.XLSX}
PARAMETERS = frozenset({"asOf"})


def subsidy_route(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    policies: Policies,
    rulebook: Rulebook,
) -> Route:
    """The report route; create_app puts it in its routes."""

    async def check(request: Request) -> Response:
        try:
            return await answer(request)
        finally:
            await request.close()  # the upload's temporary file

    async def answer(request: Request) -> Response:
        draft = draft_of(request.scope)
        if draft is not None:
            draft.operation_name = "subsidy check"
        caller = caller_of(request)
        today = cst_date(settings.clock())
        try:
            fmt = _format(request.path_params["format"])
            _require_scope(caller)
            async with sessionmaker() as session:
                reviewer = Reviewer(
                    session,
                    caller,
                    today,
                    settings.official_scheme,
                    rulebook,
                    policies,
                )
                reviewer.check_purpose(Purpose.SUBSIDY_REVIEW, None)
                _note_purpose(request, draft)
                as_of = _as_of(request, reviewer)
                name, applications = await _list(request)
                if draft is not None:
                    draft.variables = {
                        "file": name,
                        "rows": len(applications),
                        "format": fmt.value,
                        "asOf": as_of.isoformat(),
                    }
                rows = await check_eligibility(reviewer, applications, as_of=as_of)
        except Exception as e:
            answer = refused(request, draft, e)
            if answer is None:
                raise
            return answer
        if draft is not None:
            draft.enterprises = tuple(r.code for r in rows if r.code and r.enterprise)
        stem = f"信用基准评价_{as_of.isoformat()}.{fmt.value}"
        return Response(
            write_report(map(report_line, rows), xlsx=fmt is FileFormat.XLSX),
            media_type=MEDIA_TYPES[fmt],
            headers={
                "Content-Disposition": f'attachment; filename="subsidy-eligibility.{fmt.value}"; '
                f"filename*=UTF-8''{quote(stem, safe='')}",
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )

    return Route("/subsidy/eligibility.{format}", check, methods=["POST"])


def _format(name: str) -> FileFormat:
    fmt = FORMATS.get(name)
    if fmt is None:
        raise BadUserInput(
            "ask for /subsidy/eligibility.csv or /subsidy/eligibility.xlsx",
            reason="UNSUPPORTED_FORMAT",
            field="format",
        )
    return fmt


def _require_scope(caller: Caller) -> None:
    if Scope.credit_review not in caller.scopes:
        raise Forbidden(
            f"Not allowed to check subsidy applications: needs scope {Scope.credit_review.value}",
            reason="MISSING_SCOPE",
            requiredScopes=[[Scope.credit_review.value]],
        )


def _note_purpose(request: Request, draft: AuditDraft | None) -> None:
    purpose = stated_purpose(caller_of(request), request.headers)
    if purpose is not None and purpose is not Purpose.SUBSIDY_REVIEW:
        raise BadUserInput(
            f"a subsidy check is made for the purpose SUBSIDY_REVIEW, not {purpose.value}",
            reason="PURPOSE_MISMATCH",
            field="Hub-Purpose",
        )
    if draft is not None and purpose is not None:
        draft.purpose = purpose.value
        draft.case_ref = purpose_case_ref(request.headers)


def _as_of(request: Request, reviewer: Reviewer) -> date:
    params = request.query_params
    unknown = sorted(set(params) - PARAMETERS)
    if unknown:
        raise BadUserInput(
            f"unknown parameter {unknown[0]!r}; use asOf=YYYY-MM-DD",
            reason="UNKNOWN_PARAMETER",
            field=unknown[0],
        )
    text = params.get("asOf")
    if text is None:
        return reviewer.today
    return reviewer.as_of(parse_as_of(text, today=reviewer.today))


async def _list(request: Request) -> tuple[str, list[Application]]:
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise BadUserInput(
            "send the list as multipart/form-data with the file in the field 'file'",
            reason="FILE_REQUIRED",
            field="file",
        )
    form = await request.form(max_files=1, max_fields=4)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise BadUserInput(
            "the form has no file in the field 'file'",
            reason="FILE_REQUIRED",
            field="file",
        )
    data = await upload.read()
    try:
        return upload.filename, read_applications(data, upload.filename)
    except FileRejected as e:
        extra: dict[str, object] = {}
        if e.row is not None:
            extra["row"] = e.row
        if e.column is not None:
            extra["column"] = e.column
        raise BadUserInput(e.message, reason=e.reason, field="file", **extra) from None
