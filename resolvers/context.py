"""The per-request context every resolver receives."""

import asyncio
import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Concatenate, ParamSpec, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from auth.caller import Caller
from hub.config import Settings
from hub.enums import Scheme
from hub.evaluate.policy import SchemePolicy
from hub.review.rulebook import Rulebook
from resolvers.errors import BadUserInput

if TYPE_CHECKING:
    from hub.replica import Replica
    from hub.response_cache import ResponseCache

CST = ZoneInfo("Asia/Shanghai")


def cst_date(moment: datetime) -> date:
    """The calendar date in China Standard Time: the hub's notion of 'today'."""
    return moment.astimezone(CST).date()


@dataclass(slots=True)
class Context:
    request: Request
    response: Response
    # Opens the request's session, on its first use (`db`): an answer from
    # the response cache needs none, and a session costs a single lookup
    # about 4 % of its CPU to make and close unused.
    sessions: Callable[[], AsyncSession]
    settings: Settings
    caller: Caller
    request_id: str
    now: datetime
    # The rating schemes' policy files, loaded and checked at start-up.
    policies: Mapping[Scheme, Sequence[SchemePolicy]] = field(default_factory=dict)
    # Measures, review tables and subsidy programmes (hub/review/policy/).
    rulebook: Rulebook | None = None
    # Root fields resolve concurrently; one session must not: see `serialized`.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Whose data the response carries, for the audit log: credit codes of the
    # enterprises returned, and enterprise ids of dataset rows returned alone.
    returned_codes: set[str] = field(default_factory=set)
    returned_ids: set[int] = field(default_factory=set)
    # Set by the one write a request may carry; hub.graphql then commits.
    wrote: bool = False
    # A query: its statements may run outside a transaction (hub.db), so it
    # must not write.
    read_only: bool = False
    # HUB_DATABASE_REPLICA_URL: a query routed there swaps `db` for a replica
    # session when it starts (hub.operation_session.CloseSession, hub/replica.py).
    replica: "Replica | None" = None
    # HUB_RESPONSE_CACHE_MB: answers of queries kept until the data changes
    # (hub/response_cache.py); None on every path but /graphql over HTTP.
    answers: "ResponseCache | None" = None

    # cst_date(now), once: picks below each enterprise of a batch ask for it.
    today: date = field(init=False)
    # Called with the session when it opens (hub.operation_session.start_query).
    on_open: Callable[[AsyncSession], None] | None = field(default=None, init=False)
    _db: AsyncSession | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.today = cst_date(self.now)

    @property
    def db(self) -> AsyncSession:
        """The request's session, opened now if it is not yet."""
        if self._db is None:
            self._db = self.sessions()
            if self.on_open is not None:
                self.on_open(self._db)
        return self._db

    @db.setter
    def db(self, session: AsyncSession) -> None:
        self._db = session

    @property
    def has_session(self) -> bool:
        """Whether the request's session was opened (and must be closed)."""
        return self._db is not None


P = ParamSpec("P")
R = TypeVar("R")


def serialized(
    fn: Callable[Concatenate[Context, P], Awaitable[R]],
) -> Callable[Concatenate[Context, P], Awaitable[R]]:
    """Run a root resolver alone on the request's session.

    GraphQL resolves the root fields of a query concurrently, but an
    AsyncSession allows one operation at a time.
    """

    @functools.wraps(fn)
    async def run(ctx: Context, /, *args: P.args, **kwargs: P.kwargs) -> R:
        async with ctx.lock:
            return await fn(ctx, *args, **kwargs)

    return run


def writing(
    fn: Callable[Concatenate[Context, P], Awaitable[R]],
) -> Callable[Concatenate[Context, P], Awaitable[R]]:
    """Run a mutation alone on the request's session; one write per request.

    The request's transaction is committed once, after the operation
    (hub.operation_session.CloseSession), only if the write succeeded: a refused write
    has flushed nothing, so nothing is half done. Two writes in one request
    could not both be all-or-nothing, so the second is refused.
    """

    @functools.wraps(fn)
    async def run(ctx: Context, /, *args: P.args, **kwargs: P.kwargs) -> R:
        async with ctx.lock:
            if ctx.read_only:
                raise RuntimeError(f"{fn.__name__} writes; a query must not")
            if ctx.wrote:
                raise BadUserInput(
                    "One write per request: send the other mutation separately.",
                    reason="ONE_WRITE_PER_REQUEST",
                    field="mutation",
                )
            result = await fn(ctx, *args, **kwargs)
            ctx.wrote = True
            return result

    return run
