"""GET /exports/{dataset}.{format}: the shared datasets as files, for downloads.

The same bearer token, purpose header and row rules as /graphql; the file is
streamed in chunks. The audit middleware commits the request's entry, with
every enterprise in the file, before the first byte of data goes out.
"""

from collections.abc import AsyncIterator
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from auth.purpose import purpose_case_ref, stated_purpose
from hub.audit.draft import AuditDraft, draft_of
from hub.config import Settings
from hub.enums import Scheme
from hub.export_files import MEDIA_TYPES, FileFormat, encode
from hub.graphql import caller_of
from hub.route_errors import refused
from resolvers.context import cst_date
from resolvers.errors import BadUserInput
from resolvers.export_specs import ExportSpec, Selection
from resolvers.exports import (
    check_scheme,
    export_rows,
    get_spec,
    parse_as_of,
    require_scope,
    split_columns,
    summarize,
)

PARAMETERS = frozenset({"asOf", "scheme"})


def export_route(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> Route:
    """The download route; create_app puts it in its routes."""

    async def download(request: Request) -> Response:
        draft = draft_of(request.scope)
        if draft is not None:
            draft.operation_name = f"export {request.path_params['name']}"
        try:
            spec, fmt = _target(request.path_params["name"])
            _note_purpose(request, draft)
            selection = _selection(request, spec, settings)
            if draft is not None:
                _note_request(draft, spec, fmt, selection)
            async with sessionmaker() as session:
                summary = await summarize(session, spec, selection)
        except Exception as e:
            answer = refused(request, draft, e)
            if answer is None:
                raise
            return answer
        if draft is not None:
            draft.enterprises = tuple(summary.codes)
            draft.variables["rows"] = summary.rows

        async def body() -> AsyncIterator[bytes]:
            async with sessionmaker() as session:
                export = export_rows(session, spec, selection)
                async for part in encode(
                    fmt, export.columns, export.chunks, sheet_title=spec.label
                ):
                    yield part

        return StreamingResponse(
            body(),
            media_type=MEDIA_TYPES[fmt],
            headers={
                "Content-Disposition": content_disposition(spec, fmt, selection),
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )

    return Route("/exports/{name}", download, methods=["GET"])


def _target(name: str) -> tuple[ExportSpec, FileFormat]:
    dataset, dot, suffix = name.rpartition(".")
    spec = get_spec(dataset if dot else name)
    if suffix not in FileFormat.__members__.values() or not dot:
        raise BadUserInput(
            f"{name!r}: ask for {spec.name}.csv, {spec.name}.xlsx or {spec.name}.jsonl",
            reason="UNSUPPORTED_FORMAT",
            field="format",
        )
    return spec, FileFormat(suffix)


def _note_purpose(request: Request, draft: AuditDraft | None) -> None:
    purpose = stated_purpose(caller_of(request), request.headers)
    if draft is not None and purpose is not None:
        draft.purpose = purpose.value
        draft.case_ref = purpose_case_ref(request.headers)


def _selection(request: Request, spec: ExportSpec, settings: Settings) -> Selection:
    """Scope first, then the parameters: a refusal says nothing about them."""
    caller = caller_of(request)
    require_scope(spec, caller)
    params = request.query_params
    unknown = sorted(set(params) - PARAMETERS)
    if unknown:
        raise BadUserInput(
            f"unknown parameter {unknown[0]!r}; use asOf=YYYY-MM-DD and scheme",
            reason="UNKNOWN_PARAMETER",
            field=unknown[0],
        )
    today = cst_date(settings.clock())
    scheme = _scheme(params.get("scheme"))
    check_scheme(spec, scheme)
    return Selection(
        caller, parse_as_of(params.get("asOf"), today=today), today, scheme
    )


def _scheme(text: str | None) -> Scheme | None:
    if text is None:
        return None
    try:
        return Scheme[text.strip().upper()]
    except KeyError:
        raise BadUserInput(
            f"scheme {text!r} is not one of: {', '.join(s.name for s in Scheme)}",
            reason="INVALID_SCHEME",
            field="scheme",
        ) from None


def _note_request(
    draft: AuditDraft, spec: ExportSpec, fmt: FileFormat, s: Selection
) -> None:
    served, left_out = split_columns(spec, s.caller.scopes)
    draft.operation_name = f"export {spec.name}"
    draft.variables = {
        "dataset": spec.name,
        "format": fmt.value,
        "asOf": s.as_of.isoformat(),
        "scheme": s.scheme.name if s.scheme else None,
    }
    draft.fields = tuple(f"{spec.name}.{c.field}" for c in served)
    draft.denied = tuple(f"{spec.name}.{c.field}" for c in left_out)


def content_disposition(spec: ExportSpec, fmt: FileFormat, s: Selection) -> str:
    """An attachment named in Chinese (RFC 6266 filename*, RFC 8187 encoding),
    with an ASCII name for clients that know only `filename`."""
    scheme = f"_{s.scheme.name}" if s.scheme else ""
    stem = f"{scheme}_{s.as_of.isoformat()}.{fmt.value}"
    return (
        f'attachment; filename="{spec.name}{stem}"; '
        f"filename*=UTF-8''{quote(spec.label + stem, safe='')}"
    )
