"""Run an ASGI app factory on N worker processes, one SO_REUSEPORT socket each.

`uvicorn --workers N` lets the workers race to accept on one shared socket:
under steady keep-alive load one worker wins most connections (32 split 24/8
or worse). Here every worker listens on its own socket bound to the same
address with SO_REUSEPORT, so the kernel hashes new connections evenly over
the workers. The parent binds the sockets (a busy port fails before any
worker starts), forks the workers, forwards SIGTERM/SIGINT to them and waits:
each worker stops accepting, lets its in-flight requests finish and exits 0.
If a worker dies on its own, the parent stops the others and exits 1 (a
supervisor such as systemd restarts the whole server); if the parent is
killed, even with SIGKILL, the workers get SIGTERM (Linux PR_SET_PDEATHSIG),
so none lingers on the port. With one worker the server runs in-process.

`python -m hub.serve MODULE:FACTORY --workers N` runs any factory this way
(the benchmark's reference servers); `hub serve` runs the hub's.
"""

import argparse
import ctypes
import logging
import multiprocessing
import os
import signal
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from types import FrameType

import uvicorn

HUB_FACTORY = "hub.app:app_from_env"
BACKLOG = 2048
PR_SET_PDEATHSIG = 1  # linux/prctl.h
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
log = logging.getLogger("uvicorn.error")  # configured by uvicorn.Config


class WorkerServer(uvicorn.Server):
    """uvicorn's server, but after a graceful stop it exits normally.

    uvicorn re-raises the stop signal once it has shut down, so the process
    ends "killed by SIGTERM"; the parent reads exit codes, and 0 means the
    worker drained its requests and stopped cleanly.
    """

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        original = {sig: signal.signal(sig, self.handle_exit) for sig in STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)


def config_for(app: str, *, host: str, port: int, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        factory=True,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level=log_level.lower(),
        backlog=BACKLOG,
    )


def bind_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """`count` listening sockets on one address, all with SO_REUSEPORT.

    A probe without SO_REUSEPORT first: otherwise a stale server that used
    SO_REUSEPORT on the port would silently share our connections.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    if port:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(family, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
            port = sock.getsockname()[1]  # port 0: the others join the first's
            sock.listen(BACKLOG)
            sock.set_inheritable(True)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def stop_with_parent(parent: int) -> None:
    """Get SIGTERM when the parent dies, even by SIGKILL (Linux prctl), so no
    orphaned worker keeps serving the port on its own."""
    if sys.platform == "linux":
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # it died before prctl
        os.kill(os.getpid(), signal.SIGTERM)


def run_worker(
    config: uvicorn.Config, sockets: list[socket.socket], own: int, parent: int
) -> None:
    """One worker: serve socket `own`, close the others inherited by fork.

    A copy of another worker's socket held here would keep it listening after
    that worker died, and the connections hashed to it would wait forever.
    """
    for sig in STOP_SIGNALS:  # the parent's handlers were inherited too
        signal.signal(sig, signal.SIG_DFL)
    stop_with_parent(parent)
    for i, sock in enumerate(sockets):
        if i != own:
            sock.close()
    WorkerServer(config).run(sockets=[sockets[own]])


def serve(
    app: str = HUB_FACTORY,
    *,
    host: str,
    port: int,
    workers: int,
    log_level: str = "info",
) -> int:
    """Serve the factory `app` until SIGTERM/SIGINT; the exit status to return."""
    config = config_for(app, host=host, port=port, log_level=log_level)
    if workers <= 1:
        WorkerServer(config).run()
        return 0
    sockets = bind_sockets(host, port, workers)
    bound = sockets[0].getsockname()[1]
    # fork: the parent has started no thread, loop or connection; the workers
    # share the modules it imported and build their own app.
    context = multiprocessing.get_context("fork")
    processes: list[BaseProcess] = [
        context.Process(
            target=run_worker,
            args=(config, sockets, i, os.getpid()),
            name=f"worker-{i + 1}",
        )
        for i in range(workers)
    ]
    stopping = False

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for process in processes:
            if process.pid is not None and process.exitcode is None:
                process.terminate()  # SIGTERM: drain and exit

    previous = {sig: signal.signal(sig, stop) for sig in STOP_SIGNALS}
    try:
        for process in processes:
            process.start()
        for sock in sockets:  # the workers' sockets: none stays open here
            sock.close()
        if stopping:  # a signal came while starting: reach the late workers too
            stop(signal.SIGTERM, None)
        log.info(
            "%s on http://%s:%d, %d workers (pids %s)",
            app,
            host,
            bound,
            workers,
            ", ".join(str(p.pid) for p in processes),
        )
        failed = False
        running = list(processes)
        while running:
            wait([p.sentinel for p in running])
            for process in [p for p in running if p.exitcode is not None]:
                running.remove(process)
                if process.exitcode != 0 or not stopping:
                    log.error(
                        "%s (pid %s) exited with %s",
                        process.name,
                        process.pid,
                        process.exitcode,
                    )
                    failed = True
                    if not stopping:
                        stop(signal.SIGTERM, None)
        return 1 if failed else 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m hub.serve", description=__doc__)
    parser.add_argument("app", nargs="?", default=HUB_FACTORY, help="MODULE:FACTORY")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    sys.exit(
        serve(
            args.app,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level=args.log_level,
        )
    )


if __name__ == "__main__":
    main()
