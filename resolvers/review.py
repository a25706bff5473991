"""Credit reviews and subsidy checks: validation, facts, decisions (信用审查).

The decision itself is pure (hub/review/decide.py); this module checks the
arguments, reads the facts through the caller's row rules
(resolvers/review_facts.py) and hands both over.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import INTERNAL_KINDS, Caller
from auth.purpose import PURPOSE_HEADER
from auth.scopes import PURPOSES, Purpose
from hub.enums import Grade, MeasureDomain, Scheme
from hub.evaluate.policy import SchemePolicy
from hub.review.decide import CreditReview, ReviewError, review, rules_for
from hub.review.measures import Measure
from hub.review.rulebook import Rulebook
from resolvers.context import Context, serialized
from resolvers.enterprise import require_credit_code
from resolvers.errors import BadUserInput, Forbidden
from resolvers.review_facts import Reviewed, load_review_facts
from resolvers.views import EnterpriseView

EARLIEST = date(2000, 1, 1)


@dataclass(frozen=True, slots=True)
class ReviewResult:
    enterprise: EnterpriseView
    review: CreditReview


@dataclass(frozen=True, slots=True)
class Reviewer:
    """Everything a review needs, from a request or from the command line."""

    session: AsyncSession
    caller: Caller
    today: date
    scheme: Scheme  # the city's official scheme
    rulebook: Rulebook
    policies: Mapping[Scheme, Sequence[SchemePolicy]]

    @classmethod
    def of(cls, ctx: Context) -> "Reviewer":
        return cls(
            ctx.db,
            ctx.caller,
            ctx.today,
            ctx.settings.official_scheme,
            rulebook_of(ctx),
            ctx.policies,
        )

    def as_of(self, value: date | None) -> date:
        """The review date: today unless given; never in the future."""
        if value is None:
            return self.today
        if value > self.today:
            raise BadUserInput(
                f"asOf {value} is after today ({self.today}): a review decides on known facts",
                reason="AS_OF_IN_FUTURE",
                field="asOf",
            )
        if value < EARLIEST:
            raise BadUserInput(
                f"asOf {value} is before {EARLIEST}",
                reason="AS_OF_TOO_EARLY",
                field="asOf",
            )
        return value

    def check_purpose(self, purpose: Purpose, stated: str | None) -> None:
        """An agency reviews for the purposes its kind may state (auth.scopes
        PURPOSES), and for the one it stated in Hub-Purpose, if it stated one;
        the bureau may review for any."""
        kind = self.caller.kind
        if kind not in INTERNAL_KINDS and (
            kind is None or purpose not in PURPOSES[kind]
        ):
            raise Forbidden(
                f"this client may not review for the purpose {purpose.value}",
                reason="PURPOSE_NOT_ALLOWED",
            )
        if stated and stated.strip().upper() != purpose.value:
            raise BadUserInput(
                f"purpose {purpose.value} differs from the Hub-Purpose header "
                f"{stated.strip().upper()}",
                reason="PURPOSE_MISMATCH",
                field="purpose",
            )

    async def facts(self, codes: Sequence[str], as_of: date) -> dict[str, Reviewed]:
        policy = self.rulebook.review_on(as_of)
        if policy is None:
            raise BadUserInput(
                f"no review policy is in effect on {as_of}",
                reason="NO_POLICY_IN_EFFECT",
                field="asOf",
            )
        return await load_review_facts(
            self.session,
            self.caller,
            codes,
            as_of=as_of,
            today=self.today,
            scheme=self.scheme,
            policies=self.policies,
            veto_lookback_months=policy.veto_lookback_months,
        )

    async def reviews(
        self,
        codes: Sequence[str],
        *,
        purpose: Purpose,
        as_of: date | None,
        programme: str | None,
        field: str,
        max_codes: int,
    ) -> list[ReviewResult | None]:
        """Reviews in input order; None where a code is unknown or hidden."""
        if len(codes) > max_codes:
            raise BadUserInput(
                f"{field} holds {len(codes)} credit codes; at most {max_codes} per request",
                reason="TOO_MANY_CODES",
                field=field,
                maxCodes=max_codes,
            )
        canonical = [
            require_credit_code(c, field=f"{field}[{i}]" if len(codes) > 1 else field)
            for i, c in enumerate(codes)
        ]
        day = self.as_of(as_of)
        # The rules first: a refusal never depends on whether the codes exist,
        # and no fact is read for a request that cannot be decided.
        try:
            rules_for(self.rulebook, purpose=purpose, programme=programme, on=day)
        except ReviewError as e:
            raise BadUserInput(e.message, reason=e.reason, field=e.field) from None
        found = await self.facts(canonical, day) if canonical else {}
        return [
            ReviewResult(
                reviewed.enterprise,
                review(
                    self.rulebook,
                    reviewed.facts,
                    purpose=purpose,
                    programme=programme,
                    agency=self.caller.kind,
                ),
            )
            if (reviewed := found.get(c)) is not None
            else None
            for c in canonical
        ]


def rulebook_of(ctx: Context) -> Rulebook:
    if ctx.rulebook is None:
        raise RuntimeError("the review policy was not loaded at start-up")
    return ctx.rulebook


def list_measures(
    ctx: Context,
    *,
    scheme: Scheme | None,
    grade: Grade | None,
    domain: MeasureDomain | None,
    as_of: date | None,
) -> list[Measure]:
    """The catalogue's measures in effect on `as_of` (today), narrowed as asked."""
    day = as_of or ctx.today
    catalogue = rulebook_of(ctx).measures_on(day)
    if catalogue is None:
        return []
    domains = frozenset({domain}) if domain else None
    return list(
        catalogue.applying(
            scheme=scheme, grade=grade, domains=domains, agency=None, on=day
        )
    )


def stated_purpose_header(ctx: Context) -> str | None:
    return ctx.request.headers.get(PURPOSE_HEADER)


@serialized
async def get_credit_reviews(
    ctx: Context,
    codes: Sequence[str],
    *,
    purpose: Purpose,
    as_of: date | None,
    programme: str | None,
    field: str,
) -> list[ReviewResult | None]:
    reviewer = Reviewer.of(ctx)
    reviewer.check_purpose(purpose, stated_purpose_header(ctx))
    results = await reviewer.reviews(
        codes,
        purpose=purpose,
        as_of=as_of,
        programme=programme,
        field=field,
        max_codes=ctx.settings.max_batch_codes,
    )
    ctx.returned_codes.update(r.enterprise.code for r in results if r is not None)
    return results
