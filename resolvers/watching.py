"""Watchlists through GraphQL: add, remove, upload, list."""

from dataclasses import dataclass

from sqlalchemy import func, select
from starlette.datastructures import UploadFile

from hub.ingest.cells import FileRejected, TableLimits
from hub.ingest.problems import Problem
from hub.ingest.table import read_table
from hub.ingest.values import ValueProblem, credit_code
from hub.models import WatchedEnterprise
from resolvers.context import Context, serialized, writing
from resolvers.enterprise import require_credit_code
from resolvers.errors import BadUserInput
from resolvers.watchlist import (
    MAX_WATCHED,
    WatchlistChange,
    WatchlistFull,
    add_codes,
    parse_codes,
    remove_codes,
)

MAX_CODES_PER_CALL = 10_000
CODE_HEADERS = {
    "统一社会信用代码",
    "社会信用代码",
    "credit_code",
    "creditcode",
    "code",
    "uscc",
}


@dataclass(frozen=True, slots=True)
class WatchlistPage:
    size: int
    codes: list[str]


def _agency(ctx: Context) -> int:
    if ctx.caller.agency_id is None:  # scopes already keep the public out
        raise BadUserInput(
            "A watchlist belongs to an agency.", reason="NO_AGENCY", field="codes"
        )
    return ctx.caller.agency_id


@writing
async def watch(ctx: Context, *, codes: list[str], replace: bool) -> WatchlistChange:
    """Add codes to the caller's watchlist (or make it exactly these)."""
    if len(codes) > MAX_CODES_PER_CALL:
        raise BadUserInput(
            f"at most {MAX_CODES_PER_CALL} codes per call; upload a file for more",
            reason="TOO_MANY_CODES",
            field="codes",
        )
    return await _add(ctx, codes, replace=replace, field="codes")


@writing
async def unwatch(ctx: Context, *, codes: list[str]) -> WatchlistChange:
    good, problems = parse_codes(codes, field="codes")
    _refuse(problems)
    return await remove_codes(ctx.db, _agency(ctx), good)


@writing
async def upload(ctx: Context, *, file: object, replace: bool) -> WatchlistChange:
    """A CSV or XLSX file with a credit-code column (统一社会信用代码)."""
    if not isinstance(file, UploadFile):
        raise BadUserInput(
            "Send the file as a multipart upload (GraphQL multipart request).",
            reason="NOT_AN_UPLOAD",
            field="file",
        )
    try:
        table = read_table(
            await file.read(),
            file.filename or "",
            limits=TableLimits(max_rows=MAX_WATCHED, min_header_cells=1),
        )
    except FileRejected as e:
        raise BadUserInput(e.message, reason=e.reason, field="file") from None
    normalised = [h.strip().casefold().replace(" ", "") for h in table.header]
    column = next((i for i, h in enumerate(normalised) if h in CODE_HEADERS), None)
    if column is None:
        raise BadUserInput(
            "no credit-code column: name it 统一社会信用代码 or credit_code",
            reason="MISSING_COLUMN",
            field="file",
        )
    codes: list[str] = []
    problems: list[Problem] = []
    where = table.header[column]
    for row, cells in table.rows:
        try:
            code = credit_code(cells[column])  # refuses Excel-rounded numbers too
        except ValueProblem as e:
            problems.append(Problem(e.reason, e.message, row=row, column=where))
            continue
        if code is None:
            problems.append(
                Problem("REQUIRED", "the credit code is empty", row=row, column=where)
            )
        else:
            codes.append(code)
    _refuse(problems)
    return await _store(ctx, codes, replace=replace, field="file")


async def _add(
    ctx: Context, codes: list[str], *, replace: bool, field: str
) -> WatchlistChange:
    good, problems = parse_codes(codes, field=field)
    _refuse(problems)
    return await _store(ctx, good, replace=replace, field=field)


async def _store(
    ctx: Context, good: list[str], *, replace: bool, field: str
) -> WatchlistChange:
    """Canonical codes onto the caller's watchlist."""
    try:
        return await add_codes(ctx.db, _agency(ctx), good, now=ctx.now, replace=replace)
    except WatchlistFull as e:
        raise BadUserInput(str(e), reason="WATCHLIST_FULL", field=field) from None


def _refuse(problems: list[Problem]) -> None:
    if problems:
        first = problems[0]
        where = f"row {first.row}: " if first.row else ""
        raise BadUserInput(
            f"Nothing was changed: {where}{first.message}",
            reason=first.reason,
            field=first.field or "file",
            problems=[
                {
                    "row": p.row,
                    "field": p.field,
                    "reason": p.reason,
                    "message": p.message,
                }
                for p in problems[:500]
            ],
            problemCount=len(problems),
        )


@serialized
async def page(ctx: Context, *, first: int, after: str | None) -> WatchlistPage:
    """The caller's watched codes in order, `first` after `after`."""
    if not 1 <= first <= 10_000:
        raise BadUserInput(
            "first must be between 1 and 10000",
            reason="INVALID_PAGE_SIZE",
            field="first",
        )
    agency = _agency(ctx)
    stmt = select(WatchedEnterprise.enterprise_code).where(
        WatchedEnterprise.agency_id == agency
    )
    size = await ctx.db.scalar(
        select(func.count()).where(WatchedEnterprise.agency_id == agency)
    )
    if after is not None:
        # The last code of the previous page: a credit code, checked as one
        # (text PostgreSQL cannot hold, such as NUL, must not reach it).
        code = require_credit_code(after, field="after")
        stmt = stmt.where(WatchedEnterprise.enterprise_code > code)
    codes = list(
        await ctx.db.scalars(
            stmt.order_by(WatchedEnterprise.enterprise_code).limit(first)
        )
    )
    return WatchlistPage(int(size or 0), codes)
