"""Portal pages at 100,000 enterprises: median render time of each page.

`make bench-portal`: on the database of `make bench` (bench/data.py), the
whole app in this process (httpx's ASGI transport: audit, limits, the public
GraphQL) renders each page ROUNDS times, interleaved; random enterprises for
the enterprise page and searches. Issue 10's goal: under 100 ms at the median.
"""

import asyncio
import os
import random
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import httpx

from bench.data import prepare
from bench.review import DATABASE_URL, settings_for
from hub.app import create_app

ROUNDS = int(os.environ.get("BENCH_PORTAL_ROUNDS", "30"))
GOAL_MS = 100.0


async def main() -> None:
    prepared = await prepare(DATABASE_URL)
    rng = random.Random(2026)
    pages: dict[str, list[float]] = {}
    cold: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(settings_for(Path(tmp)))
        # The same pages without the shared answers (HUB_PORTAL_CACHE_SECONDS=0).
        unshared = create_app(
            replace(settings_for(Path(tmp) / "cold"), portal_cache_seconds=0)
        )
        async with (
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://hub.bench"
            ) as client,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=unshared),
                base_url="http://hub.bench",
            ) as fresh,
        ):

            async def page(name: str, path: str) -> None:
                for which, into in ((client, pages), (fresh, cold)):
                    start = time.perf_counter()
                    response = await which.get(path)
                    elapsed = (time.perf_counter() - start) * 1000
                    assert response.status_code in (200, 303), (
                        path,
                        response.status_code,
                    )
                    into.setdefault(name, []).append(elapsed)

            names = [await name_of(client, code) for code in prepared.codes[:50]]
            for _ in range(ROUNDS):
                code = rng.choice(prepared.codes)
                await page("/ (search form)", "/")
                await page(
                    "/?q= (4-character name part)", f"/?q={rng.choice(names)[2:6]}"
                )
                await page("/?q= (credit code)", f"/?q={code}")
                await page("/enterprises/{code}", f"/enterprises/{code}")
                await page("/ratings", "/ratings")
                await page("/notice", "/notice")
                await page("/red-black", "/red-black")
                await page("/dashboard", "/dashboard")
        await app.state.audit.aclose()
        await unshared.state.audit.aclose()
    print(f"{ROUNDS} rounds, median and 90th percentile (ms), goal < {GOAL_MS:.0f} ms")
    print("| page | median | p90 | goal met | median, nothing shared |")
    print("|---|---|---|---|---|")
    for name, times in pages.items():
        median = statistics.median(times)
        p90 = statistics.quantiles(times, n=10)[-1]
        met = "yes" if median < GOAL_MS else "**no**"
        unshared_median = statistics.median(cold[name])
        print(
            f"| `{name}` | {median:.1f} | {p90:.1f} | {met} | {unshared_median:.1f} |"
        )


async def name_of(client: httpx.AsyncClient, code: str) -> str:
    response = await client.post(
        "/graphql",
        json={
            "query": "query($c: String!) { enterprise(code: $c) { name } }",
            "variables": {"c": code},
        },
    )
    name: str = response.json()["data"]["enterprise"]["name"]
    return name


if __name__ == "__main__":
    asyncio.run(main())
