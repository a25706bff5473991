"""`hub serve --workers 2`: two worker processes, each listening on its own
SO_REUSEPORT socket, that stop cleanly on SIGTERM (hub/serve.py)."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

HUB = str(Path(sys.executable).with_name("hub"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()]


def listening_inodes(port: int) -> set[str]:
    """Inodes of the TCP sockets listening on `port` (state 0A in /proc/net/tcp)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "0A" and int(fields[1].split(":")[1], 16) == port:
            inodes.add(fields[9])
    return inodes


def socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd) if fd.is_symlink() else ""
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    env = {
        **os.environ,
        "HUB_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}",
        "HUB_KEYS_DIR": str(tmp_path / "keys"),
        "HUB_AUDIT_KEYS_DIR": str(tmp_path / "audit-keys"),
        "HUB_AUDIT_CHECKPOINT_FILE": str(tmp_path / "checkpoints.jsonl"),
        "HUB_LOG_LEVEL": "WARNING",
    }
    subprocess.run([HUB, "db", "upgrade"], env=env, check=True, capture_output=True)
    port = free_port()
    process = subprocess.Popen(
        [HUB, "serve", "--workers", "2", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process, port
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def wait_until_up(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        assert process.poll() is None, f"hub serve exited with {process.returncode}"
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("hub serve did not come up in 15 s")


def test_two_workers_on_their_own_sockets_stop_on_sigterm(
    server: tuple[subprocess.Popen[bytes], int],
) -> None:
    # given
    process, port = server
    base = f"http://127.0.0.1:{port}"
    wait_until_up(base, process)
    # when: new connections, one request each
    statuses = [httpx.get(f"{base}/healthz").status_code for _ in range(20)]
    # then: two workers answer, each listening on its own socket, none the parent
    assert statuses == [200] * 20
    workers = children(process.pid)
    assert len(workers) == 2
    listening = listening_inodes(port)
    held = [socket_inodes(pid) & listening for pid in workers]
    assert [len(h) for h in held] == [1, 1]
    assert held[0] != held[1]
    assert socket_inodes(process.pid) & listening == set()
    # when: SIGTERM to the parent
    process.send_signal(signal.SIGTERM)
    # then: every worker stops and the server exits with 0
    assert process.wait(timeout=5) == 0
    assert [Path(f"/proc/{pid}").exists() for pid in workers] == [False, False]
