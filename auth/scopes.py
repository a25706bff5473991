"""The scope catalogue: every scope, what it grants, and who may hold it.

One place for the matrix the README documents. A field declares the scopes
it needs (schema/ uses `requires`); a client may hold only the scopes its
agency kind is allowed; the anonymous public holds `PUBLIC_SCOPES`.
"""

from dataclasses import dataclass
from enum import StrEnum

from hub.enums import AgencyKind as K


class Scope(StrEnum):
    ratings_read = "ratings:read"
    ratings_history = "ratings:history"
    penalties_read = "penalties:read"
    penalties_detail = "penalties:detail"
    risk_read = "risk:read"
    insurance_read = "insurance:read"
    insurance_write = "insurance:write"
    data_write = "data:write"
    ratings_evaluate = "ratings:evaluate"
    ratings_publish = "ratings:publish"
    audit_read = "audit:read"
    access_log_read = "accesslog:read"
    webhooks_manage = "webhooks:manage"
    repair_apply = "repair:apply"
    watchlist_manage = "watchlist:manage"
    credit_review = "credit:review"


@dataclass(frozen=True, slots=True)
class ScopeInfo:
    scope: Scope
    meaning: str
    holders: frozenset[K]


ALL_KINDS = frozenset(K)
EXTERNAL_READERS = frozenset(
    {K.COMMERCIAL_BANK, K.PBOC_BRANCH, K.BANKING_REGULATOR, K.CREDIT_OFFICE, K.INSURER}
)
EPB = frozenset({K.CITY_EPB, K.COUNTY_EPB})

CATALOGUE: dict[Scope, ScopeInfo] = {
    s.scope: s
    for s in (
        ScopeInfo(
            Scope.ratings_read, "current published grade (当前信用等级)", ALL_KINDS
        ),
        ScopeInfo(
            Scope.ratings_history,
            "grade history and the ratings list (评价历史)",
            ALL_KINDS,
        ),
        ScopeInfo(
            Scope.penalties_read,
            "penalty decisions: number, category, date, authority, status (行政处罚)",
            ALL_KINDS,
        ),
        ScopeInfo(
            Scope.penalties_detail,
            "penalty facts, legal basis, amounts; legal representative (处罚详情, 个人信息)",
            EXTERNAL_READERS | EPB | {K.ENTERPRISE},
        ),
        ScopeInfo(
            Scope.risk_read,
            "environmental risk level, HJ 941 (环境风险等级)",
            ALL_KINDS,
        ),
        ScopeInfo(
            Scope.insurance_read,
            "pollution-liability insurance and the compulsory list (环责险)",
            EXTERNAL_READERS | EPB | {K.ENTERPRISE},
        ),
        ScopeInfo(
            Scope.insurance_write,
            "submit insurance enrollment lists",
            frozenset({K.INSURER}) | EPB,
        ),
        ScopeInfo(Scope.data_write, "record and import credit records (归集)", EPB),
        ScopeInfo(
            Scope.ratings_evaluate, "run evaluations, propose grades (评价)", EPB
        ),
        ScopeInfo(
            Scope.ratings_publish,
            "review, publish and repair grades (发布)",
            frozenset({K.CITY_EPB}),
        ),
        ScopeInfo(
            Scope.audit_read,
            "read the access audit log (审计日志)",
            frozenset({K.CITY_EPB, K.CREDIT_OFFICE}),
        ),
        ScopeInfo(
            Scope.access_log_read,
            "who looked at an enterprise's data (查询记录): the bureau, or the enterprise itself",
            EPB | {K.ENTERPRISE},
        ),
        ScopeInfo(
            Scope.repair_apply,
            "apply for credit repair (信用修复申请): the enterprise, or the bureau for it",
            EPB | {K.ENTERPRISE},
        ),
        ScopeInfo(
            Scope.watchlist_manage,
            "keep a watchlist of credit codes to follow in the feed (贷后监测)",
            EXTERNAL_READERS | EPB | {K.INDUSTRY_REGULATOR},
        ),
        ScopeInfo(
            Scope.credit_review,
            "credit reviews and subsidy checks: the decision for a purpose, its facts and measures (信用审查)",
            EXTERNAL_READERS | EPB | {K.INDUSTRY_REGULATOR},
        ),
        ScopeInfo(
            Scope.webhooks_manage,
            "register webhook endpoints for change events",
            EXTERNAL_READERS | EPB | {K.INDUSTRY_REGULATOR},
        ),
    )
}

_READ = {
    Scope.ratings_read,
    Scope.ratings_history,
    Scope.penalties_read,
    Scope.risk_read,
}
_BANK = _READ | {
    Scope.credit_review,
    Scope.penalties_detail,
    Scope.insurance_read,
    Scope.webhooks_manage,
    Scope.watchlist_manage,
}

PRESETS: dict[K, frozenset[Scope]] = {
    K.COMMERCIAL_BANK: frozenset(_BANK),
    K.PBOC_BRANCH: frozenset(_BANK),
    K.BANKING_REGULATOR: frozenset(_BANK),
    K.CREDIT_OFFICE: frozenset(_BANK | {Scope.audit_read}),
    K.INDUSTRY_REGULATOR: frozenset(
        _READ | {Scope.webhooks_manage, Scope.watchlist_manage, Scope.credit_review}
    ),
    K.INSURER: frozenset(_READ | {Scope.insurance_read, Scope.insurance_write}),
    K.CITY_EPB: frozenset(Scope),
    K.COUNTY_EPB: frozenset(
        _BANK
        | {
            Scope.insurance_write,
            Scope.data_write,
            Scope.ratings_evaluate,
            Scope.access_log_read,
            Scope.repair_apply,
        }
    ),
    K.ENTERPRISE: frozenset(
        _READ
        | {
            Scope.penalties_detail,
            Scope.insurance_read,
            Scope.access_log_read,
            Scope.repair_apply,
        }
    ),
}

# What anyone may read without a token: the public disclosure duty.
PUBLIC_SCOPES: frozenset[Scope] = frozenset(
    {Scope.ratings_read, Scope.ratings_history, Scope.penalties_read}
)


class ScopeError(ValueError):
    """A scope that does not exist or that this agency kind may not hold."""


def parse_scopes(text: str | list[str]) -> frozenset[Scope]:
    """Scopes from a space-separated string (RFC 6749 §3.3) or a list."""
    names = text.split() if isinstance(text, str) else text
    unknown = sorted(n for n in names if n not in Scope._value2member_map_)
    if unknown:
        raise ScopeError(f"unknown scope(s): {', '.join(unknown)}")
    return frozenset(Scope(n) for n in names)


def check_allowed(kind: K, scopes: frozenset[Scope]) -> None:
    """Raise ScopeError naming each scope the agency kind may not hold."""
    refused = sorted(s.value for s in scopes if kind not in CATALOGUE[s].holders)
    if refused:
        raise ScopeError(f"a {kind.value} agency may not hold: {', '.join(refused)}")


def format_scopes(scopes: frozenset[Scope]) -> str:
    return " ".join(sorted(s.value for s in scopes))


def matrix_markdown() -> str:
    """The README table: which scopes each agency kind's preset holds."""
    kinds = list(PRESETS)
    header = "| scope | meaning | " + " | ".join(k.value for k in kinds) + " | public |"
    rule = "|---|---|" + "---|" * (len(kinds) + 1)
    rows = []
    for scope, info in CATALOGUE.items():
        cells = [
            "✔" if scope in PRESETS[k] else ("·" if k in info.holders else "✘")
            for k in kinds
        ]
        cells.append("✔" if scope in PUBLIC_SCOPES else "✘")
        rows.append(f"| `{scope.value}` | {info.meaning} | " + " | ".join(cells) + " |")
    return "\n".join([header, rule, *rows])


class Purpose(StrEnum):
    """Why an agency reads (查询目的), sent in the Hub-Purpose header and audited."""

    LOAN_APPROVAL = "LOAN_APPROVAL"  # 授信审批
    POST_LOAN_MONITORING = "POST_LOAN_MONITORING"  # 贷后管理
    SUBSIDY_REVIEW = "SUBSIDY_REVIEW"  # 专项资金审核
    SUPERVISION = "SUPERVISION"  # 监管
    INSURANCE_UNDERWRITING = "INSURANCE_UNDERWRITING"  # 承保
    STATISTICS = "STATISTICS"  # 统计分析
    SELF_INQUIRY = "SELF_INQUIRY"  # 企业自查


# The purposes each agency kind may state; kinds in PURPOSE_REQUIRED must state one.
PURPOSES: dict[K, frozenset[Purpose]] = {
    K.COMMERCIAL_BANK: frozenset({Purpose.LOAN_APPROVAL, Purpose.POST_LOAN_MONITORING}),
    K.PBOC_BRANCH: frozenset({Purpose.SUPERVISION, Purpose.STATISTICS}),
    K.BANKING_REGULATOR: frozenset({Purpose.SUPERVISION, Purpose.STATISTICS}),
    K.CREDIT_OFFICE: frozenset(
        {Purpose.SUPERVISION, Purpose.SUBSIDY_REVIEW, Purpose.STATISTICS}
    ),
    K.INDUSTRY_REGULATOR: frozenset({Purpose.SUPERVISION, Purpose.SUBSIDY_REVIEW}),
    K.INSURER: frozenset({Purpose.INSURANCE_UNDERWRITING}),
    K.CITY_EPB: frozenset(
        {Purpose.SUPERVISION, Purpose.SUBSIDY_REVIEW, Purpose.STATISTICS}
    ),
    K.COUNTY_EPB: frozenset(
        {Purpose.SUPERVISION, Purpose.SUBSIDY_REVIEW, Purpose.STATISTICS}
    ),
    K.ENTERPRISE: frozenset({Purpose.SELF_INQUIRY}),
}
PURPOSE_REQUIRED: frozenset[K] = frozenset(PURPOSES) - EPB - {K.ENTERPRISE}


def purposes_markdown() -> str:
    """The README table: purposes each agency kind may state."""
    rows = [
        f"| {kind.value} | {'yes' if kind in PURPOSE_REQUIRED else 'no'} | "
        + ", ".join(f"`{p.value}`" for p in sorted(PURPOSES[kind]))
        + " |"
        for kind in PURPOSES
    ]
    return "\n".join(
        ["| agency kind | must state one | may state |", "|---|---|---|", *rows]
    )
