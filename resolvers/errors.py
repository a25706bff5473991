"""Expected failures, raised by resolvers and rendered once by hub.graphql.

    HubError                      extensions.code, extensions.reason
    ├── BadUserInput              BAD_USER_INPUT (+ field)
    ├── NotFound                  NOT_FOUND
    └── Forbidden                 FORBIDDEN (+ requiredScopes)

Anything else that escapes a resolver is unexpected: masked, logged, and
answered as INTERNAL_SERVER_ERROR with the request id.
"""

from typing import Any


class HubError(Exception):
    """A failure the client caused or may act on; its message is safe to show."""

    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, *, reason: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.extra = extra

    @property
    def extensions(self) -> dict[str, Any]:
        return {"code": self.code, "reason": self.reason, **self.extra}


class BadUserInput(HubError):
    """An argument is malformed or out of range; `field` names it."""

    code = "BAD_USER_INPUT"

    def __init__(self, message: str, *, reason: str, field: str, **extra: Any) -> None:
        super().__init__(message, reason=reason, field=field, **extra)


class NotFound(HubError):
    code = "NOT_FOUND"


class Forbidden(HubError):
    """The caller lacks a scope the field needs."""

    code = "FORBIDDEN"
