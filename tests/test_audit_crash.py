"""Kill -9 of a serving hub in the middle of a burst: no answered request
lacks its audit entry, and the chain still verifies (RELIABILITY.md §7)."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
from datetime import date
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.models import AuditEntry, Enterprise
from seeds.loader import load_demo

pytestmark = pytest.mark.anyio

HUB = str(Path(sys.executable).with_name("hub"))
LOOKUP = (
    "query($code: String!) { enterprise(code: $code) { name currentRating { grade } } }"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_until_up(base: str, process: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient(base_url=base) as http:
        for _ in range(200):
            if process.poll() is not None:
                raise AssertionError(f"hub serve exited with {process.returncode}")
            try:
                if (await http.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("hub serve did not come up in 20 s")


async def test_kill_9_during_a_burst(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    # given: a hub serving a small register from its own process
    await load_demo(engine, enterprises=30, seed=9, today=date(2026, 6, 15))
    async with engine.connect() as conn:
        codes = list((await conn.scalars(select(Enterprise.code))).all())
    port = free_port()
    env = {
        **os.environ,
        "HUB_DATABASE_URL": database_url,
        "HUB_KEYS_DIR": str(tmp_path / "keys"),
        "HUB_AUDIT_KEYS_DIR": str(tmp_path / "audit-keys"),
        "HUB_AUDIT_CHECKPOINT_FILE": str(tmp_path / "checkpoints.jsonl"),
        "HUB_AUDIT_CHECKPOINT_EVERY": "25",
        "HUB_LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [HUB, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    answered: list[httpx.Response] = []
    try:
        await wait_until_up(base, server)

        async def burst(worker: int) -> None:
            async with httpx.AsyncClient(base_url=base, timeout=5) as http:
                for i in range(10_000):
                    code = codes[(worker + i) % len(codes)]
                    try:
                        response = await http.post(
                            "/graphql",
                            json={"query": LOOKUP, "variables": {"code": code}},
                        )
                    except httpx.TransportError:
                        return  # the server is gone
                    answered.append(response)

        # when: eight clients hammer it and it is killed mid-flight
        workers = [asyncio.create_task(burst(w)) for w in range(8)]
        await asyncio.sleep(1.5)
        os.kill(server.pid, signal.SIGKILL)
        await asyncio.gather(*workers)
    finally:
        if server.poll() is None:
            server.kill()
        server.wait()
    # then: every answer with data has its committed entry
    with_data = [r for r in answered if r.status_code == 200]
    assert len(with_data) >= 20, f"only {len(with_data)} answers before the kill"
    request_ids = {r.headers["x-request-id"] for r in with_data}
    async with engine.connect() as conn:
        stored = set(
            (
                await conn.scalars(
                    select(AuditEntry.request_id).where(
                        AuditEntry.request_id.in_(request_ids)
                    )
                )
            ).all()
        )
    assert request_ids - stored == set()
    # and the chain, with its checkpoints, verifies after the crash
    verified = subprocess.run(
        [HUB, "audit", "verify", "--checkpoints", str(tmp_path / "checkpoints.jsonl")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
