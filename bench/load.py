"""The load generator: wrk with bench/wrk.lua, one run, its figures as a dataclass."""

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

WRK_LUA = Path(__file__).with_name("wrk.lua")
THREADS = 2
TIMEOUT_SECONDS = 30  # a batch of 1,000 may take seconds; wrk's default is 2
INSTALL_HINT = "wrk is missing: install it with `sudo apt-get install -y wrk`"


@dataclass(frozen=True, slots=True)
class Load:
    """What one wrk run measured."""

    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    socket_errors: int  # connect, read, write errors and timeouts
    bad_status: int  # responses other than 200
    graphql_errors: int  # 200 responses whose body holds "errors"
    statuses: dict[str, int]  # how many of each status other than 200

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> int:
        return self.socket_errors + self.bad_status + self.graphql_errors


def require_wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        sys.exit(INSTALL_HINT)
    return found


def run_wrk(
    url: str,
    bodies: Path,
    *,
    headers: dict[str, str],
    connections: int,
    seconds: float,
    rate: float | None = None,
) -> Load:
    """POST the bodies of `bodies` (one a line) to `url` for `seconds`.

    rate: requests/s over all connections, paced by wrk.lua; None: as fast
    as the server answers.
    """
    command = [
        require_wrk(),
        f"-t{THREADS}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        f"--timeout={TIMEOUT_SECONDS}s",
        "--latency",
        "-s",
        str(WRK_LUA),
    ]
    for name, value in {"Content-Type": "application/json", **headers}.items():
        command += ["-H", f"{name}: {value}"]
    command += [url, "--", str(bodies)]
    env = dict(os.environ)
    env.pop("BENCH_THREAD_RATE", None)
    if rate is not None:
        env["BENCH_THREAD_RATE"] = f"{rate / THREADS:.3f}"
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=seconds + 120
    )
    line = next(
        (x for x in done.stdout.splitlines() if x.startswith("WRK_JSON ")), None
    )
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()}")
    figures = json.loads(line.removeprefix("WRK_JSON "))
    return Load(
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        p50_ms=figures["p50_us"] / 1000,
        p90_ms=figures["p90_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        socket_errors=figures["connect_errors"]
        + figures["read_errors"]
        + figures["write_errors"]
        + figures["timeouts"],
        bad_status=figures["bad_status"],
        graphql_errors=figures["graphql_errors"],
        statuses=figures["statuses"],
    )
