"""The hub against PostGraphile, side by side over HTTP: `make bench`.

`python -m bench.api [--rounds 3] [--seconds 10] [--warmup 3]` prepares the
`bench` database (bench/data.py), then for each round starts each server in
turn (A hub, B reference, C PostGraphile, D unguarded hub: bench/servers.py),
gets the bench bank a token from the hub's /oauth/token, and runs every
scenario (bench/scenarios.py) with wrk: a warm-up, then the measured run.
One server runs at a time, so the others take no CPU or connections; rounds
interleave the servers (A B C D A B C D ...) so that machine drift hits all
alike. Prints a Markdown report (medians over rounds, ratios) and writes
every round's figures to var/bench/api-<time>.json.

BENCH_DATABASE_URL overrides the database (default: `bench` on the local
PostgreSQL server).
"""

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.data import Prepared, prepare
from bench.load import Load, require_wrk, run_wrk
from bench.machine import describe, machine_line
from bench.procs import Meter
from bench.scenarios import (
    DIFFERENCES,
    FEED_CURSORS,
    SCENARIOS,
    SEED,
    Inputs,
    Scenario,
    bodies,
    url_of,
)
from bench.servers import (
    LABELS,
    VAR,
    Running,
    Server,
    ensure_peer,
    hub_server,
    node_version,
    postgraphile_server,
    reference_server,
    unguarded_server,
)

DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/bench"
)
PURPOSE = "LOAN_APPROVAL"
SERVERS = {
    "hub": hub_server,
    "reference": reference_server,
    "postgraphile": postgraphile_server,
    "unguarded": unguarded_server,
}


@dataclass(frozen=True, slots=True)
class Figure:
    """One server, one scenario, one round."""

    server: str
    scenario: str
    round: int
    requests: int
    rate: float
    p50_ms: float
    p99_ms: float
    errors: int
    socket_errors: int
    bad_status: int
    graphql_errors: int
    statuses: dict[str, int]
    server_cpu_ms: float  # per request, every process of the server
    database_cpu_ms: float  # per request, the backends serving it
    max_worker_rss_mb: float


def fetch_token(base: str, prepared: Prepared) -> str:
    response = httpx.post(
        f"{base}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(prepared.client_id, prepared.client_secret),
        timeout=10,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def postgraphile_cursors(base: str) -> dict[int, str]:
    """PostGraphile's own cursor for every change event, by seq."""
    response = httpx.post(f"{base}/graphql", json={"query": FEED_CURSORS}, timeout=60)
    edges = response.json()["data"]["allChangeEvents"]["edges"]
    return {int(e["node"]["seq"]): e["cursor"] for e in edges}


class Bench:
    def __init__(self, prepared: Prepared, workdir: Path, args: argparse.Namespace):
        self.prepared = prepared
        self.workdir = workdir
        self.args = args
        self.headers = {"Hub-Purpose": PURPOSE}
        self.figures: list[Figure] = []
        self.checks: dict[str, list[str]] = {}
        self.samples: dict[str, Any] = {}  # scenario -> the hub's first answer
        inputs = Inputs(prepared.codes, prepared.districts, prepared.feed_seqs)
        self.variables = {
            s.key: s.make_variables(inputs, random.Random(SEED)) for s in args.scenarios
        }
        self.pg_cursors: dict[int, str] | None = None

    def bodies_file(self, scenario: Scenario, flavor: str) -> Path:
        path = self.workdir / f"{flavor}-{scenario.key}.txt"
        if not path.exists():
            lines = bodies(
                scenario, flavor, self.variables[scenario.key], self.pg_cursors
            )
            path.write_bytes(b"\n".join(lines) + b"\n")
        return path

    def run_server(self, server: Server, round_: int) -> None:
        running = Running(server)
        try:
            running.wait_ready()
            if server.key == "hub":
                token = fetch_token(server.base, self.prepared)
                self.headers["Authorization"] = f"Bearer {token}"
            if server.flavor == "postgraphile" and self.pg_cursors is None:
                self.pg_cursors = postgraphile_cursors(server.base)
            for scenario in self.args.scenarios:
                if round_ == 1:
                    self.check(server, scenario)
                self.figures.append(self.measure(running, scenario, round_))
                f = self.figures[-1]
                print(
                    f"  round {round_} {server.key:12} {scenario.key:9} "
                    f"{f.rate:8.1f} req/s  p50 {f.p50_ms:7.1f} ms  p99 {f.p99_ms:7.1f} ms"
                    f"  errors {f.errors} {f.statuses or ''}"
                    f"  cpu {f.server_cpu_ms:.2f} ms/req",
                    file=sys.stderr,
                )
        finally:
            running.stop()

    def measure(self, running: Running, scenario: Scenario, round_: int) -> Figure:
        server = running.server
        url = url_of(scenario, server.flavor, server.base)
        path = self.bodies_file(scenario, server.flavor)
        run_wrk(
            url,
            path,
            headers=self.headers,
            connections=scenario.connections,
            seconds=self.args.warmup,
        )
        meter = Meter(running.pid)
        meter.start()
        load: Load = run_wrk(
            url,
            path,
            headers=self.headers,
            connections=scenario.connections,
            seconds=self.args.seconds,
        )
        usage = meter.stop()
        per_request = 1000 / max(1, load.requests)
        return Figure(
            server=server.key,
            scenario=scenario.key,
            round=round_,
            requests=load.requests,
            rate=load.rate,
            p50_ms=load.p50_ms,
            p99_ms=load.p99_ms,
            errors=load.errors,
            socket_errors=load.socket_errors,
            bad_status=load.bad_status,
            graphql_errors=load.graphql_errors,
            statuses=load.statuses,
            server_cpu_ms=usage.server_cpu * per_request,
            database_cpu_ms=usage.database_cpu * per_request,
            max_worker_rss_mb=usage.max_worker_rss_mb,
        )

    def check(self, server: Server, scenario: Scenario) -> None:
        """One request by hand: no errors, and B and D answer as A does."""
        path = self.bodies_file(scenario, server.flavor)
        body = path.read_bytes().split(b"\n", 1)[0]
        response = httpx.post(
            url_of(scenario, server.flavor, server.base),
            content=body,
            headers={"Content-Type": "application/json", **self.headers},
            timeout=60,
        )
        answer = orjson.loads(response.content)
        notes = self.checks.setdefault(server.key, [])
        if response.status_code != 200 or "errors" in answer:
            notes.append(
                f"{scenario.key}: {response.status_code} {response.text[:300]}"
            )
            print(
                f"  {server.key} {scenario.key}: {response.text[:300]}", file=sys.stderr
            )
        elif server.key == "hub":
            self.samples[scenario.key] = answer["data"]
        elif (
            server.flavor != "postgraphile"
            and scenario.key in self.samples
            # data only: the hub may add "extensions" (the query's cost)
            and answer["data"] != self.samples[scenario.key]
        ):
            notes.append(f"{scenario.key}: data differs from the hub's")


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def ratio(rates: dict[str, float], other: str) -> str:
    hub, theirs = rates.get("hub"), rates.get(other)
    return f"{hub / theirs:.2f}" if hub and theirs else "n/a"


def report(bench: Bench, machine: dict[str, str], args: argparse.Namespace) -> str:
    figures = bench.figures
    servers = [k for k in SERVERS if k in args.servers]
    lines = [
        f"{machine_line(machine)}. 100,000 demo enterprises (seed 2026); every server "
        f"2 worker processes, pool 10 per worker; wrk -t2, {args.seconds:g} s per run "
        f"after {args.warmup:g} s of warm-up, {args.rounds} interleaved rounds, medians.",
        "",
    ]
    med: dict[tuple[str, str], dict[str, float]] = {}
    for scenario in args.scenarios:
        lines += [
            f"**{scenario.label}** ({scenario.connections} connections)",
            "",
            "| server | req/s | p50 ms | p99 ms | errors | server CPU ms/req "
            "| PostgreSQL CPU ms/req | max worker RSS MB |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for key in servers:
            rows = [
                f for f in figures if f.server == key and f.scenario == scenario.key
            ]
            if not rows:
                continue
            m = {
                name: median([float(getattr(f, name)) for f in rows])
                for name in (
                    "rate",
                    "p50_ms",
                    "p99_ms",
                    "server_cpu_ms",
                    "database_cpu_ms",
                    "max_worker_rss_mb",
                )
            }
            med[key, scenario.key] = m
            lines.append(
                f"| {LABELS[key]} | {m['rate']:,.0f} | {m['p50_ms']:.1f} "
                f"| {m['p99_ms']:.1f} | {sum(f.errors for f in rows)} "
                f"| {m['server_cpu_ms']:.2f} | {m['database_cpu_ms']:.2f} "
                f"| {m['max_worker_rss_mb']:.0f} |"
            )
        lines.append("")
    lines += [
        "Ratios of the medians (req/s):",
        "",
        "| scenario | hub / PostGraphile | hub / reference | hub / unguarded (goal ≥ 0.85) |",
        "|---|---|---|---|",
    ]
    for scenario in args.scenarios:
        rates = {k: m["rate"] for (k, s), m in med.items() if s == scenario.key}
        lines.append(
            f"| {scenario.label} | {ratio(rates, 'postgraphile')} "
            f"| {ratio(rates, 'reference')} | {ratio(rates, 'unguarded')} |"
        )
    lines.append("")
    problems = [f"{k}: {n}" for k, notes in bench.checks.items() for n in notes]
    lines.append(
        "Checked before measuring: every server answered the first request of each "
        "scenario without errors, and the reference and the unguarded hub gave the "
        "hub's exact answers."
        if not problems
        else "Checks that failed: " + "; ".join(problems)
    )
    lines += ["", "Where the answers differ:", ""]
    lines += [f"- {d}" for d in DIFFERENCES]
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.api", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument(
        "--servers", default=",".join(SERVERS), help="comma-separated, of: %(default)s"
    )
    parser.add_argument(
        "--scenarios",
        default=",".join(s.key for s in SCENARIOS),
        help="comma-separated, of: %(default)s",
    )
    args = parser.parse_args(argv)
    args.servers = [s for s in args.servers.split(",") if s]
    unknown = set(args.servers) - set(SERVERS)
    if unknown:
        parser.error(f"unknown servers: {', '.join(sorted(unknown))}")
    wanted = args.scenarios.split(",")
    args.scenarios = [s for s in SCENARIOS if s.key in wanted]
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    require_wrk()
    if "postgraphile" in args.servers:
        ensure_peer()
    print("preparing the database", file=sys.stderr)
    prepared = asyncio.run(prepare(DATABASE_URL))
    node = node_version() if "postgraphile" in args.servers else None
    machine = asyncio.run(describe(DATABASE_URL, node))
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        bench = Bench(prepared, Path(tmp), args)
        for round_ in range(1, args.rounds + 1):
            for key in [k for k in SERVERS if k in args.servers]:
                try:
                    bench.run_server(SERVERS[key](DATABASE_URL), round_)
                except (RuntimeError, httpx.HTTPError) as e:  # the others still run
                    print(f"  round {round_} {key}: {e}", file=sys.stderr)
                    bench.checks.setdefault(key, []).append(f"round {round_}: {e}")
    VAR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = VAR / f"api-{stamp}.json"
    out.write_text(
        json.dumps(
            {
                "machine": machine,
                "rounds": args.rounds,
                "seconds": args.seconds,
                "warmup": args.warmup,
                "checks": bench.checks,
                "figures": [asdict(f) for f in bench.figures],
            },
            indent=1,
        )
    )
    print(report(bench, machine, args))
    print(f"\nraw figures: {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
