"""Credit reviews against plain lookups, side by side on the API benchmark's data.

`make bench-review`: on the 100,000-enterprise database of `make bench`
(bench/data.py), a bank asks in turn (A B A B ...) for

- A: `creditReviews` of 1,000 random codes for LOAN_APPROVAL, every field;
- B: `enterprisesByCodes` of the same 1,000 codes with the four datasets;

and the same for a single code (`creditReview` against `enterprise`). Both
go through the whole app in this process (httpx's ASGI transport: token,
limits, authorization, audit), so the ratio is what a review adds to a
lookup of the same enterprises. Wall time and this process's CPU time, medians.
"""

import asyncio
import os
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.data import prepare
from bench.scenarios import HUB_QUERIES
from hub.app import create_app
from hub.config import Settings

DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/bench"
)
NOW = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)  # the data's today, at noon CST
ROUNDS = int(os.environ.get("BENCH_REVIEW_ROUNDS", "7"))
SINGLES = 200
REVIEW_FIELDS = """
    enterprise { code name district { code } }
    asOf purpose loan policyVersion
    grade { ratingId grade scheme validFrom }
    penalties { id decisionNumber publicationEndDate }
    vetoEvents { id ruleCode }
    risk { level emergencyPlanFiled }
    compulsoryInsurance compulsoryInsuranceMissing
    openRepair { applicationId status }
    reasons { code label outcome citations { type id } }
    measures { code zh }
"""
REVIEWS = (
    "query Reviews($codes: [String!]!) "
    f"{{ creditReviews(codes: $codes, purpose: LOAN_APPROVAL) {{ {REVIEW_FIELDS} }} }}"
)
REVIEW = (
    "query Review($code: String!) "
    f"{{ creditReview(code: $code, purpose: LOAN_APPROVAL) {{ {REVIEW_FIELDS} }} }}"
)


def settings_for(directory: Path, url: str = DATABASE_URL) -> Settings:
    """The in-process app of the bench scripts: the data's day, no budgets."""
    return Settings(
        database_url=url,
        clock=lambda: NOW,
        keys_dir=directory / "keys",
        audit_keys_dir=directory / "audit-keys",
        audit_checkpoint_file=directory / "checkpoints.jsonl",
        budget_points=10**9,
        budget_refill_per_second=10**9,
        graphiql=False,
    )


async def timed(work: Awaitable[None]) -> tuple[float, float]:
    """Wall and CPU seconds of `work` (a coroutine runs only when awaited)."""
    wall, cpu = time.perf_counter(), time.process_time()
    await work
    return time.perf_counter() - wall, time.process_time() - cpu


async def main() -> None:
    prepared = await prepare(DATABASE_URL)
    rng = random.Random(2026)
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(settings_for(Path(tmp)))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://hub.bench", timeout=120
        ) as client:
            token = await client.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(prepared.client_id, prepared.client_secret),
            )
            token.raise_for_status()
            headers = {
                "Authorization": f"Bearer {token.json()['access_token']}",
                "Hub-Purpose": "LOAN_APPROVAL",
            }

            async def ask(query: str, variables: dict[str, Any]) -> None:
                response = await client.post(
                    "/graphql",
                    json={"query": query, "variables": variables},
                    headers=headers,
                )
                body = response.json()
                assert response.status_code == 200, body
                assert "errors" not in body, body

            async def batch(query: str, codes: list[str]) -> None:
                await ask(query, {"codes": codes})

            async def singles(query: str, codes: list[str]) -> None:
                for code in codes:
                    await ask(query, {"code": code})

            results: dict[str, list[tuple[float, float]]] = {}
            await batch(REVIEWS, rng.sample(prepared.codes, 1000))  # warm up
            await batch(HUB_QUERIES["batch"], rng.sample(prepared.codes, 1000))
            for _ in range(ROUNDS):
                codes = rng.sample(prepared.codes, 1000)
                results.setdefault("review batch", []).append(
                    await timed(batch(REVIEWS, codes))
                )
                results.setdefault("lookup batch", []).append(
                    await timed(batch(HUB_QUERIES["batch"], codes))
                )
                few = rng.sample(prepared.codes, SINGLES)
                results.setdefault("review single", []).append(
                    await timed(singles(REVIEW, few))
                )
                results.setdefault("lookup single", []).append(
                    await timed(singles(HUB_QUERIES["single"], few))
                )
        await app.state.audit.aclose()
    report(results)


def report(results: dict[str, list[tuple[float, float]]]) -> None:
    med = {
        name: (
            statistics.median(w for w, _ in runs),
            statistics.median(c for _, c in runs),
        )
        for name, runs in results.items()
    }
    print(f"{ROUNDS} interleaved rounds, medians (wall / CPU of this process)")
    print("| request | review | lookup | review/lookup (wall) | review/lookup (CPU) |")
    print("|---|---|---|---|---|")
    for kind, per in (("batch", 1), ("single", SINGLES)):
        rw, rc = med[f"review {kind}"]
        lw, lc = med[f"lookup {kind}"]
        label = "1,000 codes" if kind == "batch" else "1 code"
        print(
            f"| {label} | {rw / per * 1000:.1f} ms ({rc / per * 1000:.1f} CPU) "
            f"| {lw / per * 1000:.1f} ms ({lc / per * 1000:.1f} CPU) "
            f"| {rw / lw:.2f} | {rc / lc:.2f} |"
        )


if __name__ == "__main__":
    asyncio.run(main())
