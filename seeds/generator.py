"""Deterministic demo data: plain row dicts per table, in batches of enterprises.

No database here. Rows use the column names of hub.models with Python values
(enum members, Decimal, date, aware UTC datetimes) and explicit ids, so dependent
rows point at their enterprise without a round trip. One random.Random(seed)
drives everything and enterprises are built one after another, so the same
(n, seed, today) gives the same rows whatever the batch size.
"""

import bisect
import itertools
import math
import random
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Generic, TypeVar

from hub.credit_code import ALPHABET, complete_credit_code
from hub.decision_number import canonical_decision_number
from hub.districts import CURRENT_DISTRICT_CODES, WUXI_DISTRICTS
from hub.enums import (
    EClass,
    EnterpriseStatus,
    Grade,
    MClass,
    PenaltyStatus,
    PolicyStatus,
    QClass,
    RatingStatus,
    RiskLevel,
    Scheme,
    SupervisionCategory,
)
from seeds import names
from seeds.names import Authority

Row = dict[str, Any]
# Foreign-key order: parents first.
TABLES = (
    "enterprise",
    "credit_rating",
    "penalty_decision",
    "risk_assessment",
    "compulsory_insurance",
    "insurance_policy",
)
BATCH_SIZE = 2_000
MAX_ENTERPRISE_ID = 2 * 10**7 - 1  # the smaller credit-code body space, see _CodeMaker
DYNAMIC_START = date(2020, 1, 1)  # the 12-point scheme applies province-wide
NOTICE_OPEN_DAYS = 10  # demo grades in public notice take objections this long
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Batch:
    """The rows of one chunk of enterprises, per table in TABLES order."""

    enterprises_done: int
    rows: dict[str, list[Row]]


def generate(
    n: int,
    *,
    seed: int,
    today: date,
    first_id: int = 1,
    first_row_id: int = 1,
    batch_size: int = BATCH_SIZE,
) -> Iterator[Batch]:
    """Yield `n` enterprises (ids from `first_id`) and their rows, batch by batch.

    Ids of the other tables start at `first_row_id`. Decision, plan-filing and
    policy numbers are unique within one call. Nothing is dated after `today`
    except validity ends and publication end dates.
    """
    if n < 0 or first_id < 1 or first_id + n - 1 > MAX_ENTERPRISE_ID:
        raise ValueError(f"enterprise ids must lie in 1..{MAX_ENTERPRISE_ID}")
    if batch_size < 1 or today < DYNAMIC_START:
        raise ValueError(f"need batch_size >= 1 and today >= {DYNAMIC_START}")
    builder = _Builder(random.Random(seed), today, first_row_id)
    return _batches(builder, range(first_id, first_id + n), batch_size)


def _batches(builder: "_Builder", ids: range, size: int) -> Iterator[Batch]:
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        rows: dict[str, list[Row]] = {t: [] for t in TABLES}
        for eid in chunk:
            builder.add(eid, rows)
        yield Batch(start + len(chunk), rows)


def annual_years(today: date) -> range:
    """The three latest annual ratings published by `today` (each on 1 May)."""
    last = today.year - 1 if today >= date(today.year, 5, 1) else today.year - 2
    return range(last - 2, last + 1)


class Weighted(Generic[T]):
    """Items with relative weights; `pick` draws one."""

    def __init__(self, pairs: Sequence[tuple[T, float]]) -> None:
        self.items = [item for item, _ in pairs]
        self.cumulative = list(itertools.accumulate(w for _, w in pairs))

    def pick(self, rng: random.Random) -> T:
        point = rng.random() * self.cumulative[-1]
        return self.items[bisect.bisect_right(self.cumulative, point)]


GRADES = (Grade.GREEN, Grade.BLUE, Grade.YELLOW, Grade.RED, Grade.BLACK)
GRADE_MIX = Weighted(list(enumerate((30, 45, 15, 7, 3))))  # index into GRADES
# Score bands: JS 12-point in whole points, JS 100-point in tenths of a point.
DYNAMIC_BANDS = {
    Grade.GREEN: (11, 12),
    Grade.BLUE: (6, 10),
    Grade.YELLOW: (3, 5),
    Grade.RED: (1, 2),
    Grade.BLACK: (0, 0),
}
DYNAMIC_GRADE = [
    g
    for score in range(13)
    for g, (lo, hi) in DYNAMIC_BANDS.items()
    if lo <= score <= hi
]
ANNUAL_BANDS = {
    Grade.GREEN: (950, 1000),
    Grade.BLUE: (800, 949),
    Grade.YELLOW: (650, 799),
    Grade.RED: (401, 649),
    Grade.BLACK: (300, 400),
}
POINTS = [Decimal(p) for p in range(13)]
CITY_DECIDER = names.CITY_BUREAU.name

_WEIGHTS = {"320281": 22, "320282": 18, "320205": 13, "320206": 14}
DISTRICT_MIX = Weighted(
    [(code, _WEIGHTS.get(code, 11)) for code in CURRENT_DISTRICT_CODES]
)
ABOLISHED = tuple(d.code for d in WUXI_DISTRICTS if d.successor_code)
CURRENT_CODE = {d.code: d.successor_code or d.code for d in WUXI_DISTRICTS}
COUNTY_CITIES = ("320281", "320282")
INDUSTRY_MIX = Weighted([(i, i.weight) for i in names.INDUSTRIES])
INDUSTRY_BY_CODE = {i.code: i for i in names.INDUSTRIES}
CATEGORY_MIX = Weighted(list(zip(SupervisionCategory, (3, 7, 20, 70), strict=True)))
STATUS_MIX = Weighted(list(zip(EnterpriseStatus, (95, 3, 2), strict=True)))
NAME_FORMS = Weighted(
    [
        ("{city}{trade}{word}有限公司", 64),
        ("{city}市{trade}{word}有限公司", 14),
        ("{city}{trade}{word}股份有限公司", 12),
        ("江苏{trade}{word}有限公司", 10),
    ]
)
# Key enterprises are likelier to be assessed and put on the insurance list.
RISK_SHARE = dict(zip(SupervisionCategory, (0.8, 0.8, 0.6, 0.3), strict=True))
LISTED_SHARE = dict(zip(SupervisionCategory, (0.5, 0.5, 0.35, 0.13), strict=True))

VIOLATION_MIX = Weighted([(v, v.weight) for v in names.VIOLATIONS])
PENALTY_KINDS = Weighted(
    [
        ("fine", 78),
        ("warning", 8),
        ("warning_fine", 5),
        ("fine_confiscation", 6),
        ("suspension", 3),
    ]
)
PENALTY_CATEGORIES = {
    "fine": ("FINE",),
    "warning": ("WARNING",),
    "warning_fine": ("WARNING", "FINE"),
    "fine_confiscation": ("FINE", "CONFISCATION_OF_ILLEGAL_GAINS"),
    "suspension": ("ORDERED_SUSPENSION",),
}
PENALTY_CONTENT = {
    "fine": "责令改正违法行为，罚款人民币{fine}元。",
    "warning": "警告，责令改正违法行为。",
    "warning_fine": "警告，并处罚款人民币{fine}元。",
    "fine_confiscation": "没收违法所得人民币{gains}元，并处罚款人民币{fine}元。",
    "suspension": "责令停产整治。",
}
PENALTY_STATUS_MIX = Weighted(list(zip(PenaltyStatus, (94, 3, 3), strict=True)))
BRACKET_MIX = Weighted([(("〔", "〕"), 85), (("[", "]"), 10), (("﹝", "﹞"), 5)])
INSURER_MIX = Weighted([(i, i.weight) for i in names.INSURERS])


def _hj941_level(q: int, m: int, e: int) -> RiskLevel:
    # Approximates the HJ 941-2018 Q x M x E matrix (domain.md 3.3, from memory):
    # more substance, weaker control and a more sensitive receptor raise the level.
    s = q + m + 2 * (3 - e)
    return (
        RiskLevel.GENERAL if s <= 4 else RiskLevel.LARGER if s <= 7 else RiskLevel.MAJOR
    )


RiskClasses = tuple[QClass, MClass | None, EClass | None]
RISK_CLASSES: dict[RiskLevel, list[RiskClasses]] = {level: [] for level in RiskLevel}
for _q, _m, _e in itertools.product(range(1, 4), range(1, 5), range(1, 4)):
    RISK_CLASSES[_hj941_level(_q, _m, _e)].append(
        (QClass(f"Q{_q}"), MClass(f"M{_m}"), EClass(f"E{_e}"))
    )
RISK_MIX = Weighted(list(zip(RiskLevel, (70, 25, 5), strict=True)))
RISK_ORDER = tuple(RiskLevel)  # GENERAL < LARGER < MAJOR
RISK_ZH = dict(zip(RiskLevel, ("一般", "较大", "重大"), strict=True))
RISK_LETTER = dict(zip(RiskLevel, "LMH", strict=True))


class _CodeMaker:
    """Unique enterprise credit codes: the body is an affine permutation of the id.

    a*id + b mod m is a bijection when gcd(a, m) == 1, so two ids never share a
    body; the seed only scrambles which body an id gets. Old-style bodies are
    8 digits starting 6 or 7 (insurers use 1), new ones "MA" + 6 characters.
    """

    OLD = 2 * 10**7
    NEW = 31**6

    def __init__(self, rng: random.Random) -> None:
        self.old = _affine(rng, self.OLD)
        self.new = _affine(rng, self.NEW)

    def code(self, eid: int, registrar: str, *, old: bool) -> str:
        if old:
            a, b = self.old
            x = (a * eid + b) % self.OLD
            body = f"{6 + x // 10**7}{x % 10**7:07d}"
        else:
            a, b = self.new
            x = (a * eid + b) % self.NEW
            chars = []
            for _ in range(6):
                x, r = divmod(x, 31)
                chars.append(ALPHABET[r])
            body = "MA" + "".join(chars)
        return complete_credit_code(f"91{registrar}{body}")


def _affine(rng: random.Random, m: int) -> tuple[int, int]:
    a = m // 3 + int(rng.random() * (m // 2))
    while math.gcd(a, m) != 1:
        a += 1
    return a, int(rng.random() * m)


def _add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


class _Builder:
    """Builds one enterprise and its dependent rows at a time; holds the counters.

    Draws go through `random()` (C code) rather than randrange/choice, which
    cost ten times more and dominated the run time.
    """

    def __init__(self, rng: random.Random, today: date, first_row_id: int) -> None:
        self.rng = rng
        self.random = rng.random
        self.today = today
        self.today_ordinal = today.toordinal()
        self.codes = _CodeMaker(rng)
        self.ids = {t: itertools.count(first_row_id) for t in TABLES[1:]}
        self.serials: Counter[tuple[str, int]] = Counter()
        self.names: set[str] = set()
        self.years = annual_years(today)

    def add(self, eid: int, out: dict[str, list[Row]]) -> None:
        enterprise = self._enterprise(eid)
        out["enterprise"].append(enterprise)
        district = enterprise["district_code"]
        bureau = names.DISTRICT_BUREAUS[CURRENT_CODE[district]]
        category = enterprise["supervision_category"]
        self._ratings(eid, bureau, category, out["credit_rating"])
        if self.random() < 0.25:
            self._penalties(eid, bureau, out["penalty_decision"])
        if self.random() < RISK_SHARE[category]:
            self._risks(eid, bureau, out["risk_assessment"])
        self._insurance(eid, category, out)

    def _int(self, lo: int, hi: int) -> int:
        """Uniform in lo..hi inclusive."""
        return lo + int(self.random() * (hi - lo + 1))

    def _choice(self, items: Sequence[T]) -> T:
        return items[int(self.random() * len(items))]

    def _days_ago(self, most: int, least: int = 0) -> date:
        return date.fromordinal(self.today_ordinal - self._int(least, most))

    def _moment(self, ordinal: int) -> datetime:
        """A time on that day (a date ordinal) in Beijing office hours, 01:00-09:00 UTC."""
        seconds = (ordinal - EPOCH_ORDINAL) * 86400 + self._int(3600, 9 * 3600 - 1)
        return datetime.fromtimestamp(seconds, UTC)

    # -- enterprise ---------------------------------------------------------

    def _enterprise(self, eid: int) -> Row:
        district = DISTRICT_MIX.pick(self.rng)
        old = self.random() < 0.45  # registered before the 2015 code reform
        registrar = district  # credit-code characters 3-8
        if district not in COUNTY_CITIES and self.random() < 0.12:
            registrar = "320200"  # registered with the city
        elif old and district == "320213" and self.random() < 0.6:
            registrar = self._choice(ABOLISHED)
            if self.random() < 0.25:
                district = registrar  # an old record still on the abolished district
        specialities = names.DISTRICT_INDUSTRIES.get(district)
        if specialities and self.random() < 0.4:
            industry = INDUSTRY_BY_CODE[self._choice(specialities)]
        else:
            industry = INDUSTRY_MIX.pick(self.rng)
        age = self._int(30, 6 * 365)
        created = self.today_ordinal - age
        return {
            "id": eid,
            "code": self.codes.code(eid, registrar, old=old),
            "name": self._name(district, industry),
            "district_code": district,
            "address": self._address(district),
            "industry_code": industry.code,
            "supervision_category": CATEGORY_MIX.pick(self.rng),
            "legal_representative": self._person(),
            "status": STATUS_MIX.pick(self.rng),
            "created_at": self._moment(created),
            "updated_at": self._moment(created + self._int(0, age)),
        }

    def _name(self, district: str, industry: names.Industry) -> str:
        city = names.CITY_PREFIX.get(district, "无锡")
        chars = names.TRADE_NAME_CHARS
        for attempt in itertools.count():
            first = self._int(0, len(chars) - 1)
            second = (first + self._int(1, len(chars) - 1)) % len(chars)
            trade = chars[first] + chars[second]
            if attempt >= 8:  # crowded: a three-character 字号
                trade += self._choice(chars)
            word = self._choice(industry.name_words)
            name = NAME_FORMS.pick(self.rng).format(city=city, trade=trade, word=word)
            if name not in self.names:  # names are unique within a registry
                self.names.add(name)
                return name
        raise AssertionError("unreachable")

    def _address(self, district: str) -> str:
        street = self._choice(names.STREETS[district])
        road = self._choice(names.ROADS)
        return f"{names.ADDRESS_PREFIX[district]}{street}{road}{self._int(1, 998)}号"

    def _person(self) -> str:
        surnames = names.SURNAMES
        surname = surnames[int(len(surnames) * self.random() ** 1.8)]  # common first
        given = self._choice(names.GIVEN_NAME_CHARS)
        if self.random() < 0.7:
            given += self._choice(names.GIVEN_NAME_CHARS)
        return surname + given

    # -- credit ratings -----------------------------------------------------

    def _ratings(
        self, eid: int, bureau: Authority, category: SupervisionCategory, out: list[Row]
    ) -> None:
        score, since = self._dynamic(eid, bureau, out)
        if category is not SupervisionCategory.OTHER:
            self._annual(
                eid, national=category is SupervisionCategory.NATIONAL_KEY, out=out
            )
        if self.random() < 0.02:  # a deduction entered, not yet confirmed
            lost = self._int(1, 3)
            reason = (
                f"动态记分（待审核）：{VIOLATION_MIX.pick(self.rng).label}扣{lost}分"
            )
            day = self._days_ago(20)
            out.append(
                self._dynamic_row(
                    eid,
                    bureau,
                    max(score - lost, 0),
                    RatingStatus.DRAFT,
                    reason,
                    day,
                    None,
                )
            )
        if self.random() < 0.01:  # a deduction withdrawn with its penalty
            start = since + timedelta(days=self._int(0, (self.today - since).days))
            end = min(start + timedelta(days=self._int(1, 90)), self.today)
            reason = "动态记分：原处罚决定已撤销，本次记分撤回"
            out.append(
                self._dynamic_row(
                    eid,
                    bureau,
                    max(score - 3, 0),
                    RatingStatus.REVOKED,
                    reason,
                    start,
                    end,
                )
            )

    def _dynamic(self, eid: int, bureau: Authority, out: list[Row]) -> tuple[int, date]:
        """A FINAL 12-point history with back-to-back validity; returns the
        current score and the first day."""
        first = DYNAMIC_START.toordinal()
        span = self.today.toordinal() - first + 1
        count = min(self._choice((1, 1, 1, 2, 2, 3)), span)
        ordinals: set[int] = set()
        while len(ordinals) < count:
            ordinals.add(first + int(self.random() * span))
        days = [date.fromordinal(o) for o in sorted(ordinals)]
        scores = [self._int(*DYNAMIC_BANDS[GRADES[GRADE_MIX.pick(self.rng)]])]
        while len(scores) < count:  # walk back in time from the current score
            later = scores[0]
            earlier = min(max(later - self._choice((-3, -2, -1, 1, 2, 3, 6)), 0), 12)
            scores.insert(
                0, earlier if earlier != later else (later + 1 if later < 12 else 11)
            )
        for i, (day, score) in enumerate(zip(days, scores, strict=True)):
            change = score - scores[i - 1] if i else 0
            if not i:
                reason = f"纳入环保信用动态评价，当前记分{score}分"
            elif change < 0:
                reason = f"动态记分：{VIOLATION_MIX.pick(self.rng).label}扣{-change}分"
            elif change == 1 and self.random() < 0.5:
                reason = "动态记分：签署环保信用承诺加1分"
            else:
                reason = f"动态记分：扣分有效期届满，恢复{change}分"
            valid_to = days[i + 1] - timedelta(days=1) if i + 1 < count else None
            out.append(
                self._dynamic_row(
                    eid, bureau, score, RatingStatus.FINAL, reason, day, valid_to
                )
            )
        return scores[-1], days[0]

    def _dynamic_row(
        self,
        eid: int,
        bureau: Authority,
        score: int,
        status: RatingStatus,
        reason: str,
        valid_from: date,
        valid_to: date | None,
    ) -> Row:
        return self._rating(
            eid,
            Scheme.JS_DYNAMIC_12,
            year=None,
            grade=DYNAMIC_GRADE[score],
            score=POINTS[score],
            status=status,
            reason=reason,
            decided_by=bureau.name,
            decided_at=self._moment(valid_from.toordinal() - self._int(0, 3)),
            valid_from=valid_from,
            valid_to=valid_to,
        )

    def _annual(self, eid: int, *, national: bool, out: list[Row]) -> None:
        base = GRADE_MIX.pick(self.rng)
        for year in self.years:
            grade = GRADES[min(max(base + self._choice((-1, 0, 0, 0, 0, 1)), 0), 4)]
            published = date(year + 1, 5, 1)
            status = RatingStatus.FINAL
            days_before = self._int(1, 11)  # approved in the last days of April
            notice_until = None
            if year == self.years[-1] and self.random() < 0.1:
                status = RatingStatus.IN_PUBLIC_NOTICE  # objections still open
                days_before = self._int(16, 30)
                # Open for objections on the portal (no draw: the rest of the
                # data stays the same).
                notice_until = self.today + timedelta(days=NOTICE_OPEN_DAYS)
            common = {
                "year": year,
                "decided_by": CITY_DECIDER,
                "decided_at": self._moment(published.toordinal() - days_before),
                "valid_from": published,
                "valid_to": date(year + 2, 4, 30),
            }
            score = Decimal(self._int(*ANNUAL_BANDS[grade])).scaleb(-1)
            reason = names.ANNUAL_REASON.format(year=year)
            out.append(
                self._rating(
                    eid,
                    Scheme.JS_ANNUAL_100,
                    grade=grade,
                    score=score,
                    status=status,
                    reason=reason,
                    notice_until=notice_until,
                    **common,
                )
            )
            if national:  # four plates: the national scheme has no black
                plate = Grade.RED if grade is Grade.BLACK else grade
                reason = names.NATIONAL_REASON.format(year=year)
                out.append(
                    self._rating(
                        eid,
                        Scheme.NATIONAL_2013,
                        grade=plate,
                        score=None,
                        status=RatingStatus.FINAL,
                        reason=reason,
                        **common,
                    )
                )

    def _rating(self, eid: int, scheme: Scheme, **fields: Any) -> Row:
        return {
            "id": next(self.ids["credit_rating"]),
            "enterprise_id": eid,
            "scheme": scheme,
            "notice_until": None,
            **fields,
        }

    # -- penalties ------------------------------------------------------------

    def _penalties(self, eid: int, bureau: Authority, out: list[Row]) -> None:
        for _ in range(self._choice((1, 1, 1, 1, 2, 2, 3))):
            authority = names.CITY_BUREAU if self.random() < 0.15 else bureau
            day = self._days_ago(4 * 365 - 3)  # in the last 4 years, after the shift
            if day.weekday() >= 5:  # decisions are signed on working days
                day -= timedelta(days=day.weekday() - 4)
            self.serials[authority.code, day.year] += 1
            left, right = BRACKET_MIX.pick(self.rng)
            serial = self.serials[authority.code, day.year]
            number = f"{authority.prefix}{left}{day.year}{right}{serial}号"
            violation = VIOLATION_MIX.pick(self.rng)
            kind = PENALTY_KINDS.pick(self.rng)
            fine = gains = 0
            if "fine" in kind:  # most fines sit near the statutory minimum
                spread = (violation.max_fine - violation.min_fine) * self.random() ** 3
                fine = (violation.min_fine + int(spread)) // 1000 * 1000
            if kind == "fine_confiscation":
                gains = self._int(5, 200) * 1000
            seen = day - timedelta(days=self._int(20, 120))
            facts = violation.facts.format(
                when=f"{seen.year}年{seen.month}月{seen.day}日",
                detail=self._choice(violation.details),
            )
            content = PENALTY_CONTENT[kind].format(fine=fine, gains=gains)
            out.append(
                {
                    "id": next(self.ids["penalty_decision"]),
                    "enterprise_id": eid,
                    "decision_number": number,
                    "decision_number_key": canonical_decision_number(number),
                    "categories": list(PENALTY_CATEGORIES[kind]),
                    "violation_type": violation.type,
                    "facts": facts,
                    "legal_basis": violation.legal_basis,
                    "content": content if self.random() < 0.75 else None,
                    "fine_amount": Decimal(fine),
                    "confiscation_amount": Decimal(gains),
                    "decision_date": day,
                    "authority_name": authority.name,
                    "authority_code": authority.code,
                    "publication_end_date": _add_years(
                        day, 3 if kind == "suspension" or fine >= 100_000 else 1
                    ),
                    "status": PENALTY_STATUS_MIX.pick(self.rng),
                }
            )

    # -- risk assessments -----------------------------------------------------

    def _risks(self, eid: int, bureau: Authority, out: list[Row]) -> None:
        days = [self._days_ago(3 * 365)]
        if self.random() < 0.2:  # the one before: HJ 941 re-assessment every 3 years
            days.insert(0, days[0] - timedelta(days=3 * 365 + self._int(-60, 60)))
        for day in days:
            out.append(self._risk(eid, bureau, day))

    def _risk(self, eid: int, bureau: Authority, assessed: date) -> Row:
        overall = RISK_MIX.pick(self.rng)
        lower = RISK_ORDER[self._int(0, RISK_ORDER.index(overall))]
        air: RiskLevel | None
        water: RiskLevel | None
        media = self.random()
        if media < 0.8:  # both media assessed; the higher one is the overall level
            air, water = (overall, lower) if self.random() < 0.5 else (lower, overall)
        elif media < 0.92:
            air, water = overall, None
        else:
            air, water = None, overall
        row: Row = {"id": next(self.ids["risk_assessment"]), "enterprise_id": eid}
        parts = []
        for medium, zh, level in (("air", "大气", air), ("water", "水", water)):
            q, m, e = self._classes(level) if level else (None, None, None)
            row |= {
                f"{medium}_level": level,
                f"{medium}_q": q,
                f"{medium}_m": m,
                f"{medium}_e": e,
            }
            if level and q:
                parts.append(
                    f"{RISK_ZH[level]}-{zh}({'-'.join(c.value for c in (q, m, e) if c)})"
                )
        filed: date | None = assessed + timedelta(days=self._int(7, 60))
        if filed and (filed > self.today or self.random() < 0.1):
            filed = None  # the emergency plan is not (yet) on file
        number = None
        if filed:
            district = bureau.code[2:8]
            self.serials[district, filed.year] += 1
            serial = self.serials[district, filed.year]
            number = f"{district}-{filed.year}-{serial:03d}-{RISK_LETTER[overall]}"
        return row | {
            "overall_level": overall,
            "level_string": f"{RISK_ZH[overall]}[{'+'.join(parts)}]",
            "assessed_on": assessed,
            "plan_filing_number": number,
            "plan_filed_on": filed,
            "filing_authority": bureau.name if filed else None,
        }

    def _classes(self, level: RiskLevel) -> RiskClasses:
        if level is RiskLevel.GENERAL and self.random() < 0.4:
            return QClass.Q0, None, None  # below the critical quantity: 一般 outright
        return self._choice(RISK_CLASSES[level])

    # -- insurance ------------------------------------------------------------

    def _insurance(
        self, eid: int, category: SupervisionCategory, out: dict[str, list[Row]]
    ) -> None:
        today = self.today
        if self.random() < LISTED_SHARE[category]:
            first = (
                today.year - 2 if self.random() < 0.8 else today.year - self._int(0, 1)
            )
            years = range(first, today.year + 1)
            out["compulsory_insurance"].extend(
                {"enterprise_id": eid, "year": y} for y in years
            )
            if self.random() >= 0.85:
                return  # listed but not insured
        elif self.random() < 0.05:  # insured voluntarily
            last = today.year - self._int(0, 1)
            years = range(last - self._int(0, 2), last + 1)
        else:
            return
        month, day = self._int(1, 12), self._int(1, 28)
        insurer = INSURER_MIX.pick(self.rng)
        limit = self._int(10, 100) * 50_000
        for year in years:
            start = date(year, month, day)
            if start > today:
                break  # this year's renewal is still ahead
            if self.random() < 0.1:
                insurer = INSURER_MIX.pick(self.rng)
            end = date(year + 1, month, day) - timedelta(days=1)
            status = PolicyStatus.ACTIVE if end >= today else PolicyStatus.EXPIRED
            if self.random() < 0.02:
                status = PolicyStatus.SURRENDERED
            self.serials[insurer.code, year] += 1
            serial = self.serials[insurer.code, year]
            premium_fen = limit * self._int(1000, 3000) // 1000  # 1-3 % of the limit
            out["insurance_policy"].append(
                {
                    "id": next(self.ids["insurance_policy"]),
                    "enterprise_id": eid,
                    "insurer_name": insurer.name,
                    "insurer_code": insurer.code,
                    "policy_number": f"{insurer.tag}-WX-{year}-{serial:06d}",
                    "start_date": start,
                    "end_date": end,
                    "cumulative_limit": Decimal(limit),
                    "per_accident_limit": Decimal(limit // 2),
                    "premium": Decimal(premium_fen).scaleb(-2),
                    "status": status,
                }
            )
