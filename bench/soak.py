"""Ten minutes at 70 % of the hub's top rate: `make soak` (python -m bench.soak).

Starts the hub as deployed (`hub serve --workers 2`, bench/servers.py) on the
`bench` database (bench/data.py), measures its top single-lookup rate (or
takes --rate), then sends the single-lookup mix at 70 % of it, paced by
wrk.lua's delay() (Debian has no wrk2), one wrk run per minute. Each minute
records the achieved rate, p50, p99, errors and the workers' memory; at the
end a Markdown table and three verdicts: no errors, p99 stable (the last
minute's within 1.5x the first's), memory growth under 10 % from the end of
minute 1 to the end. Writes the figures to var/bench/soak-<time>.json.

`--minutes 1` tries it quickly; `--top R` skips measuring the top rate.
"""

import argparse
import asyncio
import json
import random
import sys
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.api import DATABASE_URL, PURPOSE, fetch_token
from bench.data import prepare
from bench.load import require_wrk, run_wrk
from bench.machine import describe, machine_line
from bench.procs import Meter, descendants, rss_mb
from bench.scenarios import SCENARIOS, SEED, Inputs, bodies, url_of
from bench.servers import VAR, Running, hub_server

SHARE = 0.7
P99_DRIFT = 1.5
RSS_GROWTH = 0.10
SINGLE = next(s for s in SCENARIOS if s.key == "single")


@dataclass(frozen=True, slots=True)
class Minute:
    minute: int
    rate: float
    p50_ms: float
    p99_ms: float
    errors: int
    server_cpu_ms: float  # per request
    worker_rss_mb: list[float]


def verdicts(minutes: list[Minute]) -> list[tuple[str, bool, str]]:
    first, last = minutes[0], minutes[-1]
    errors = sum(m.errors for m in minutes)
    drift = last.p99_ms / first.p99_ms if first.p99_ms else float("inf")
    start, end = max(first.worker_rss_mb), max(last.worker_rss_mb)
    growth = (end - start) / start if start else float("inf")
    return [
        ("no errors", errors == 0, f"{errors} errors"),
        (
            f"p99 stable (last minute within {P99_DRIFT}x of the first)",
            drift <= P99_DRIFT,
            f"{first.p99_ms:.1f} ms → {last.p99_ms:.1f} ms ({drift:.2f}x)",
        ),
        (
            f"memory growth under {RSS_GROWTH:.0%} (largest worker, minute 1 → end)",
            growth < RSS_GROWTH,
            f"{start:.0f} MB → {end:.0f} MB ({growth:+.1%})",
        ),
    ]


def report(
    minutes: list[Minute], top: float, target: float, machine: dict[str, str]
) -> str:
    achieved = sum(m.rate for m in minutes) / len(minutes)
    lines = [
        f"{machine_line(machine)}. The hub, 2 workers, single lookups of random "
        f"codes among 100,000, 32 connections: top rate {top:,.0f} req/s, target "
        f"{SHARE:.0%} = {target:,.0f} req/s, achieved {achieved:,.0f} req/s on "
        f"average over {len(minutes)} minute(s).",
        "",
        "| minute | req/s | p50 ms | p99 ms | errors | server CPU ms/req | worker RSS MB |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in minutes:
        rss = " / ".join(f"{r:.0f}" for r in m.worker_rss_mb)
        lines.append(
            f"| {m.minute} | {m.rate:,.0f} | {m.p50_ms:.1f} | {m.p99_ms:.1f} "
            f"| {m.errors} | {m.server_cpu_ms:.2f} | {rss} |"
        )
    lines += ["", "| verdict | | |", "|---|---|---|"]
    lines += [
        f"| {name} | {'PASS' if ok else 'FAIL'} | {detail} |"
        for name, ok, detail in verdicts(minutes)
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument(
        "--top",
        type=float,
        help="the hub's top single-lookup rate, req/s (default: measured first)",
    )
    args = parser.parse_args(argv)
    require_wrk()
    print("preparing the database", file=sys.stderr)
    prepared = asyncio.run(prepare(DATABASE_URL))
    machine = asyncio.run(describe(DATABASE_URL))
    inputs = Inputs(prepared.codes, prepared.districts, prepared.feed_seqs)
    variables = SINGLE.make_variables(inputs, random.Random(SEED))
    server = hub_server(DATABASE_URL)
    url = url_of(SINGLE, server.flavor, server.base)
    minutes: list[Minute] = []
    with tempfile.TemporaryDirectory(prefix="bench-soak-") as tmp:
        path = Path(tmp) / "single.txt"
        path.write_bytes(b"\n".join(bodies(SINGLE, server.flavor, variables)) + b"\n")
        running = Running(server)
        try:
            running.wait_ready()

            def headers() -> dict[str, str]:  # a fresh token: they live 15 minutes
                token = fetch_token(server.base, prepared)
                return {"Authorization": f"Bearer {token}", "Hub-Purpose": PURPOSE}

            run_wrk(url, path, headers=headers(), connections=32, seconds=3)
            top = args.top or (
                run_wrk(url, path, headers=headers(), connections=32, seconds=10).rate
            )
            target = SHARE * top
            print(
                f"top {top:,.0f} req/s; soaking at {target:,.0f} req/s", file=sys.stderr
            )
            for minute in range(1, args.minutes + 1):
                meter = Meter(running.pid)
                meter.start()
                load = run_wrk(
                    url,
                    path,
                    headers=headers(),
                    connections=32,
                    seconds=60,
                    rate=target,
                )
                usage = meter.stop()
                minutes.append(
                    Minute(
                        minute=minute,
                        rate=load.rate,
                        p50_ms=load.p50_ms,
                        p99_ms=load.p99_ms,
                        errors=load.errors,
                        server_cpu_ms=usage.server_cpu * 1000 / max(1, load.requests),
                        worker_rss_mb=[rss_mb(p) for p in descendants(running.pid)],
                    )
                )
                m = minutes[-1]
                print(
                    f"  minute {minute}: {m.rate:,.0f} req/s, p50 {m.p50_ms:.1f} ms, "
                    f"p99 {m.p99_ms:.1f} ms, errors {m.errors}, RSS {m.worker_rss_mb}",
                    file=sys.stderr,
                )
        finally:
            running.stop()
    VAR.mkdir(parents=True, exist_ok=True)
    out = VAR / f"soak-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_text(
        json.dumps(
            {
                "machine": machine,
                "top_rate": top,
                "target_rate": target,
                "minutes": [asdict(m) for m in minutes],
            },
            indent=1,
        )
    )
    print(report(minutes, top, target, machine))
    print(f"\nraw figures: {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
