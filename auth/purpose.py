"""The declared purpose of access (查询目的): Hub-Purpose and Hub-Case-Ref headers."""

from collections.abc import Mapping

from auth.caller import Caller
from auth.scopes import PURPOSE_REQUIRED, PURPOSES, Purpose

PURPOSE_HEADER = "hub-purpose"
CASE_REF_HEADER = "hub-case-ref"
MAX_CASE_REF = 100
# By name, once: Enum's own lookups cost a bank's request about 1 % of its CPU.
_PURPOSES: dict[str, Purpose] = dict(Purpose.__members__)


class PurposeError(ValueError):
    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason


def stated_purpose(caller: Caller, headers: Mapping[str, str]) -> Purpose | None:
    """The caller's purpose; external agencies must state one their kind may use."""
    raw = headers.get(PURPOSE_HEADER, "").strip().upper()
    kind = caller.kind
    if not raw:
        if kind in PURPOSE_REQUIRED:
            allowed = ", ".join(sorted(PURPOSES[kind])) if kind else ""
            raise PurposeError(
                f"state the purpose of this request in the Hub-Purpose header (one of: {allowed})",
                "PURPOSE_REQUIRED",
            )
        return None
    purpose = _PURPOSES.get(raw)
    if purpose is None:
        raise PurposeError(
            f"Hub-Purpose {raw!r} is not a known purpose", "PURPOSE_UNKNOWN"
        )
    if kind is None or purpose not in PURPOSES[kind]:
        who = kind.value if kind else "the anonymous public"
        raise PurposeError(
            f"{who} may not state the purpose {raw}", "PURPOSE_NOT_ALLOWED"
        )
    case_ref = headers.get(CASE_REF_HEADER, "")
    if len(case_ref) > MAX_CASE_REF:
        raise PurposeError(
            f"Hub-Case-Ref is longer than {MAX_CASE_REF} characters",
            "CASE_REF_TOO_LONG",
        )
    return purpose


def purpose_case_ref(headers: Mapping[str, str]) -> str | None:
    return headers.get(CASE_REF_HEADER, "").strip() or None
