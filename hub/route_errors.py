"""How the file routes (/exports, /subsidy) answer what stops them.

A refusal is JSON shaped like a GraphQL error, with the audit draft told
why; the database being gone is a 503 with Retry-After, as on /graphql.
"""

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from auth.purpose import PurposeError
from hub.audit.draft import AuditDraft
from hub.audit.record import Outcome
from hub.db import is_unavailable
from hub.graphql import RETRY_AFTER_SECONDS, unavailable_error
from hub.request_id import request_id_of
from resolvers.errors import BadUserInput, Forbidden, HubError, NotFound

STATUS = {BadUserInput: 400, Forbidden: 403, NotFound: 404}


def refusal(status: int, message: str, extensions: dict[str, object]) -> Response:
    return JSONResponse(
        {"errors": [{"message": message, "extensions": extensions}]},
        status,
        headers={"Cache-Control": "no-store"},
    )


def database_unavailable(request: Request) -> Response:
    error = unavailable_error(request_id_of(request.scope))
    response = JSONResponse(
        {"errors": [error]}, 503, headers={"Cache-Control": "no-store"}
    )
    response.headers["Retry-After"] = RETRY_AFTER_SECONDS
    return response


def refused(
    request: Request, draft: AuditDraft | None, error: Exception
) -> Response | None:
    """The answer to `error` if it is one a route expects, else None (re-raise)."""
    if isinstance(error, HubError):
        if draft is not None:
            draft.reason = error.reason
        return refusal(STATUS.get(type(error), 400), error.message, error.extensions)
    if isinstance(error, PurposeError):
        if draft is not None:
            draft.outcome, draft.reason = Outcome.DENIED, error.reason
        return refusal(
            400, error.message, {"code": "BAD_USER_INPUT", "reason": error.reason}
        )
    if is_unavailable(error):
        return database_unavailable(request)
    return None
