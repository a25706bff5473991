"""/dashboard: the statistics, as charts with their numbers, and each as CSV.

The figures come from GraphQL `statistics` asked as the public, so the page
shows published grades only, penalties inside their publication window, and
counts without names. Fine totals and the uninsured enterprises need scopes
the public lacks: the page does not ask for them.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from hub.districts import CURRENT_DISTRICT_CODES, WUXI_DISTRICTS
from hub.enums import GRADE_ZH, PENALTY_CATEGORY_ZH, Grade, PenaltyCategory, Scheme
from hub.export_files import LABELS
from hub.ingest.export import write_csv
from hub.ingest.table import Cell
from hub.portal import charts
from hub.portal.charts import Group, Series
from hub.portal.public import PublicResult
from hub.portal.site import SECURITY_HEADERS, Site

PARAMETERS = ("year", "scheme", "district", "from", "to")
_INTEGER = re.compile(r"-?[0-9]{1,9}")
# Refusals that pass: the visitor may try again later.
BUSY = {"RATE_LIMITED": 429, "SERVICE_UNAVAILABLE": 503, "TIMEOUT": 504}
GRADE_COLOURS = {
    Grade.GREEN: "#1e7b34",
    Grade.BLUE: "#1f5fae",
    Grade.YELLOW: "#f2c200",
    Grade.RED: "#b3261e",
    Grade.BLACK: "#111111",
}
CATEGORY_COLOURS = dict(
    zip(
        PenaltyCategory,
        (
            "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948",
            "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac", "#1f5fae", "#8a6a00",
            "#6b3fa0", "#5b6775",
        ),
        strict=True,
    )
)  # fmt: skip
DOWNGRADES = Series("降级", "#b3261e")
REPAIRS = Series("修复", "#1e7b34")
INSURED = Series("已投保", "#1f5fae")
UNINSURED = Series("未投保", "#d5dbe2")
DISTRICTS = [
    (d.code, d.name) for d in WUXI_DISTRICTS if d.code in CURRENT_DISTRICT_CODES
]
SCHEMES = [(s.value, LABELS[s]) for s in Scheme]

GRADES = """
    gradeDistribution(year: $year, scheme: $scheme) {
      scheme year asOf total
      grades { grade count }
      districts { district { code name } total grades { grade count } }
    }"""
CHANGES = """
    ratingChanges(from: $from, to: $to, scheme: $scheme) {
      from to downgrades repairs months { month downgrades repairs }
    }"""
PENALTIES = """
    penalties(from: $from, to: $to) {
      from to count categories { category count }
      months { month count categories { category count } }
    }"""
COVERAGE = """
    insuranceCoverage(year: $year) {
      year compulsory insured districts { district { code name } compulsory insured }
    }"""


VARIABLE_TYPES = {
    "year": "Int",
    "scheme": "Scheme",
    "district": "String",
    "from": "Date",
    "to": "Date",
}


def document(name: str, *figures: str) -> str:
    """`query PortalDashboard<name>` asking for the figures, declaring the
    variables they use (an unused variable is an invalid document)."""
    body = "".join(figures)
    declared = ", ".join(
        f"${v}: {t}"
        for v, t in VARIABLE_TYPES.items()
        if v == "district" or f"${v}" in body
    )
    return (
        f"query PortalDashboard{name}({declared}) "
        f"{{ statistics(district: $district) {{{body} }} }}"
    )


DASHBOARD = document("", GRADES, CHANGES, PENALTIES, COVERAGE)


def variables_of(request: Request) -> dict[str, Any]:
    """The query parameters as GraphQL variables; whatever GraphQL cannot take
    is passed as written, so that its refusal names the problem."""
    found: dict[str, Any] = {}
    for name in PARAMETERS:
        value = request.query_params.get(name, "").strip()
        if value:
            found[name] = (
                int(value) if name == "year" and _INTEGER.fullmatch(value) else value
            )
    return found


def problem(result: PublicResult) -> tuple[str, int] | None:
    """What to say instead of the figures, and the status, if they failed."""
    if not result.errors and result.data is not None:
        return None
    code = result.errors[0].get("extensions", {}).get("code") if result.errors else None
    if code == "BAD_USER_INPUT":
        return f"参数有误：{result.message()}", 400
    if code in BUSY:
        return "统计暂不可用，请稍后再试。", BUSY[code]
    return result.message() or "统计暂不可用。", 500


def shown(form: dict[str, str], figures: dict[str, Any]) -> dict[str, str]:
    """The form as asked, its blanks filled with what the figures used."""
    grades, changes = figures["gradeDistribution"], figures["ratingChanges"]
    used = {
        "year": str(grades["year"]),
        "scheme": grades["scheme"],
        "from": changes["from"],
        "to": changes["to"],
    }
    return {name: form[name] or used.get(name, "") for name in PARAMETERS}


def grade_groups(figure: dict[str, Any]) -> tuple[list[Series], list[Group]]:
    grades = [Grade[g["grade"]] for g in figure["grades"]]
    series = [Series(GRADE_ZH[g], GRADE_COLOURS[g]) for g in grades]
    groups = [
        Group(d["district"]["name"], [g["count"] for g in d["grades"]])
        for d in figure["districts"]
    ]
    return series, groups


def penalty_groups(figure: dict[str, Any]) -> tuple[list[Series], list[Group]]:
    present = [PenaltyCategory[c["category"]] for c in figure["categories"]]
    series = [Series(PENALTY_CATEGORY_ZH[c], CATEGORY_COLOURS[c]) for c in present]
    groups = []
    for m in figure["months"]:
        counts = {c["category"]: c["count"] for c in m["categories"]}
        groups.append(Group(m["month"], [counts.get(c.name, 0) for c in present]))
    return series, groups


def coverage_groups(figure: dict[str, Any]) -> list[Group]:
    return [
        Group(d["district"]["name"], [d["insured"], d["compulsory"]])
        for d in figure["districts"]
    ]


def charts_of(figures: dict[str, Any]) -> dict[str, Any]:
    """Each figure's SVG, drawn from the numbers the tables show."""
    grades = figures["gradeDistribution"]
    series, groups = grade_groups(grades)
    drawn = {
        "grades": charts.stacked_bars(
            groups, series, label=f"{grades['asOf']} 各区县信用等级分布"
        ),
        "changes": charts.columns(
            [
                Group(m["month"], [m["downgrades"], m["repairs"]])
                for m in figures["ratingChanges"]["months"]
            ],
            [DOWNGRADES, REPAIRS],
            label="每月信用降级与修复",
            stacked=False,
        ),
    }
    series, groups = penalty_groups(figures["penalties"])
    drawn["penalties"] = charts.columns(
        groups, series, label="每月行政处罚决定数（按处罚类别）", stacked=True
    )
    coverage = figures["insuranceCoverage"]
    drawn["coverage"] = charts.coverage_bars(
        coverage_groups(coverage),
        label=f"{coverage['year']} 年环责险应投保企业投保情况",
        covered=INSURED,
        uncovered=UNINSURED,
    )
    return drawn


# CSV of each figure: (document, header and rows from the figure's answer).
Table = tuple[list[str], list[list[Cell]]]


def grades_table(figure: dict[str, Any]) -> Table:
    names = [GRADE_ZH[Grade[g["grade"]]] for g in figure["grades"]]
    rows: list[list[Cell]] = [
        [
            d["district"]["code"],
            d["district"]["name"],
            *(g["count"] for g in d["grades"]),
            d["total"],
        ]
        for d in figure["districts"]
    ]
    rows.append(["", "合计", *(g["count"] for g in figure["grades"]), figure["total"]])
    return ["区县代码", "区县", *names, "合计"], rows


def changes_table(figure: dict[str, Any]) -> Table:
    rows: list[list[Cell]] = [
        [m["month"], m["downgrades"], m["repairs"]] for m in figure["months"]
    ]
    rows.append(["合计", figure["downgrades"], figure["repairs"]])
    return ["月份", "降级", "修复"], rows


def penalties_table(figure: dict[str, Any]) -> Table:
    series, groups = penalty_groups(figure)
    rows: list[list[Cell]] = [
        [g.label, m["count"], *g.values]
        for g, m in zip(groups, figure["months"], strict=True)
    ]
    rows.append(["合计", figure["count"], *(c["count"] for c in figure["categories"])])
    return ["月份", "处罚决定数", *(s.label for s in series)], rows


def coverage_table(figure: dict[str, Any]) -> Table:
    rows: list[list[Cell]] = [
        [
            d["district"]["code"],
            d["district"]["name"],
            d["compulsory"],
            d["insured"],
            d["compulsory"] - d["insured"],
            charts.percent(d["insured"], d["compulsory"]),
        ]
        for d in figure["districts"]
    ]
    c, i = figure["compulsory"], figure["insured"]
    rows.append(["", "合计", c, i, c - i, charts.percent(i, c)])
    return ["区县代码", "区县", "应投保企业数", "已投保", "未投保", "投保率"], rows


@dataclass(frozen=True, slots=True)
class Download:
    field: str
    document: str
    table: Callable[[dict[str, Any]], Table]


DOWNLOADS = {
    "grades": Download("gradeDistribution", document("Grades", GRADES), grades_table),
    "rating-changes": Download(
        "ratingChanges", document("RatingChanges", CHANGES), changes_table
    ),
    "penalties": Download(
        "penalties", document("Penalties", PENALTIES), penalties_table
    ),
    "insurance": Download(
        "insuranceCoverage", document("Insurance", COVERAGE), coverage_table
    ),
}


def routes(site: Site) -> list[Route]:
    async def dashboard(request: Request) -> Response:
        variables = variables_of(request)
        result = await site.ask_shared(request, DASHBOARD, variables)
        values: dict[str, Any] = {
            "nav": "dashboard",
            "form": {n: request.query_params.get(n, "").strip() for n in PARAMETERS},
            "districts": DISTRICTS,
            "schemes": SCHEMES,
            "query": urlencode({k: str(v) for k, v in variables.items()}),
        }
        failed = problem(result)
        if failed is not None or result.data is None:
            message, status = failed or ("统计暂不可用。", 500)
            return site.render(
                request, "dashboard.html", {**values, "error": message}, status=status
            )
        figures = result.data["statistics"]
        values["form"] = shown(values["form"], figures)
        tables = {name: d.table(figures[d.field]) for name, d in DOWNLOADS.items()}
        return site.render(
            request,
            "dashboard.html",
            {
                **values,
                "figures": figures,
                "charts": charts_of(figures),
                "tables": tables,
            },
        )

    async def download(request: Request) -> Response:
        spec = DOWNLOADS.get(request.path_params["figure"])
        if spec is None:
            return PlainTextResponse(
                "没有这项统计", status_code=404, headers=SECURITY_HEADERS
            )
        result = await site.ask_shared(request, spec.document, variables_of(request))
        failed = problem(result)
        if failed is not None or result.data is None:
            message, status = failed or ("统计暂不可用。", 500)
            return PlainTextResponse(
                message, status_code=status, headers=SECURITY_HEADERS
            )
        header, rows = spec.table(result.data["statistics"][spec.field])
        name = request.path_params["figure"]
        return Response(
            write_csv(header, rows),
            media_type="text/csv; charset=utf-8",
            headers={
                **SECURITY_HEADERS,
                "Content-Disposition": f'attachment; filename="{name}.csv"',
            },
        )

    return [
        Route("/dashboard", dashboard, methods=["GET"]),
        Route("/dashboard/{figure}.csv", download, methods=["GET"]),
    ]
