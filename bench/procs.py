"""What a server costs, read from /proc: CPU time of its processes, their memory."""

import os
from dataclasses import dataclass
from pathlib import Path

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    """Every live process below `pid` (its workers, theirs, ...)."""
    found: list[int] = []
    pending = [pid]
    while pending:
        parent = pending.pop()
        try:
            tasks = list(Path(f"/proc/{parent}/task").iterdir())
        except FileNotFoundError:
            continue
        for task in tasks:
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except FileNotFoundError:
                continue
            found += children
            pending += children
    return found


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of the processes (threads included), in seconds."""
    ticks = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except FileNotFoundError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # the name may hold spaces
        ticks += int(fields[11]) + int(fields[12])
    return ticks / TICKS_PER_SECOND


def rss_mb(pid: int) -> float:
    """Resident memory (VmRSS) in MB; 0 for a process that is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def socket_inodes(pids: list[int]) -> set[str]:
    inodes = set()
    for pid in pids:
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except (FileNotFoundError, PermissionError):
            continue
        for fd in fds:
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    return inodes


def client_ports(pids: list[int], server_port: int) -> set[int]:
    """Local ports of the processes' TCP connections to `server_port`."""
    inodes = socket_inodes(pids)
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if remote_port == server_port and fields[9] in inodes:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def backends_of(pids: list[int], database_port: int = 5432) -> list[int]:
    """The PostgreSQL backends serving these processes' connections.

    A backend's process title names its client: `postgres: 15/main: user db
    127.0.0.1(45886) idle`; other clients of the same database are left out.
    """
    wanted = {f"({port})" for port in client_ports(pids, database_port)}
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, UnicodeDecodeError):
            continue
        if title.startswith("postgres:") and any(w in title for w in wanted):
            found.append(int(entry.name))
    return found


@dataclass(frozen=True, slots=True)
class Usage:
    server_cpu: float  # seconds
    database_cpu: float  # seconds
    max_worker_rss_mb: float


class Meter:
    """CPU used by a server's processes and by the database backends serving
    them between start() and stop(), and the largest worker's memory at stop()."""

    def __init__(self, root: int) -> None:
        self.root = root
        self._server = 0.0
        self._backends: dict[int, float] = {}

    def start(self) -> None:
        server = [self.root, *descendants(self.root)]
        self._server = cpu_seconds(server)
        self._backends = {pid: cpu_seconds([pid]) for pid in backends_of(server)}

    def stop(self) -> Usage:
        workers = descendants(self.root)
        server = cpu_seconds([self.root, *workers]) - self._server
        # Backends started during the run count from zero; those that ended
        # during it are lost (pools keep theirs open, so there are few).
        database = sum(
            cpu_seconds([pid]) - self._backends.get(pid, 0.0)
            for pid in backends_of([self.root, *workers])
        )
        rss = max((rss_mb(pid) for pid in workers or [self.root]), default=0.0)
        return Usage(server, database, rss)
