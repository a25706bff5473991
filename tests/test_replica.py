"""Read replica: public queries read a real PostgreSQL streaming replica.

The module starts its own pair of clusters in temporary directories (never
the server HUB_TEST_DATABASE_URL names, which only switches the module on): a
primary made with initdb and a hot standby made from it with pg_basebackup.
Replay is paused on the replica to tell the two apart: what the primary has
and the replica has not replayed is visible only to a session on the primary.
"""

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from strawberry.types.graphql import OperationType

from auth.caller import Caller
from hub.app import create_app
from hub.config import Settings
from hub.db import create_engine, create_sessionmaker
from hub.enums import AgencyKind
from hub.migrate import upgrade
from hub.models import WatchedEnterprise
from hub.replica import Route, route_of
from seeds import builders as b
from tests.conftest import NOW, PG_URL, Tokens
from tests.helpers import data_of, post_graphql

pytestmark = pytest.mark.anyio

PG_BIN = Path("/usr/lib/postgresql/15/bin")
ENTERPRISE_QUERY = "query($code: String!) { enterprise(code: $code) { code } }"
WATCH = "mutation($codes: [String!]!) { watchEnterprises(codes: $codes) { added } }"


class TestRouteOf:
    """The rule alone: no database needed."""

    @pytest.mark.parametrize(
        ("caller", "operation", "route"),
        [
            (Caller.public(), OperationType.QUERY, Route.REPLICA),
            (Caller.public(), OperationType.MUTATION, Route.PRIMARY),
            (Caller.public(), OperationType.SUBSCRIPTION, Route.PRIMARY),
            (Caller.staff(), OperationType.QUERY, Route.PRIMARY),
            (Caller.staff(), OperationType.MUTATION, Route.PRIMARY),
        ],
    )
    def test_route(
        self, caller: Caller, operation: OperationType, route: Route
    ) -> None:
        assert route_of(caller, operation) is route


@dataclass
class Pair:
    root: Path
    primary_port: int
    replica_port: int

    def url(self, port: int) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{port}/hub"

    @property
    def primary_url(self) -> str:
        return self.url(self.primary_port)

    @property
    def replica_url(self) -> str:
        return self.url(self.replica_port)

    def pg(self, tool: str, *args: str) -> None:
        """Run a PostgreSQL program as `postgres` (it refuses to run as root)."""
        command = [str(PG_BIN / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, cwd=self.root, check=True, capture_output=True)

    def start(self, name: str, port: int) -> None:
        self.pg(
            "pg_ctl", "-D", str(self.root / name), "-l", str(self.root / f"{name}.log"),
            "-o", f"-p {port}", "-w", "start",
        )  # fmt: skip

    def stop(self, name: str, mode: str = "fast") -> None:
        self.pg("pg_ctl", "-D", str(self.root / name), "-m", mode, "-w", "stop")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    """A primary and its streaming replica, on free ports, for this module."""
    if PG_URL is None or not (PG_BIN / "pg_basebackup").exists():
        pytest.skip("needs HUB_TEST_DATABASE_URL and PostgreSQL 15's server programs")
    root = Path(tempfile.mkdtemp(prefix="hub-replica-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    made = Pair(root, _free_port(), _free_port())
    started: list[str] = []
    try:
        made.pg("initdb", "-D", str(root / "primary"), "-A", "trust", "-U", "postgres",
                "--no-sync", "--no-instructions")  # fmt: skip
        with (root / "primary" / "postgresql.conf").open("a") as conf:
            conf.write(
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{root}'\n"
                "wal_level = replica\n"
                "max_wal_senders = 4\n"
                "fsync = off\n"  # a test's throwaway cluster
            )
        with (root / "primary" / "pg_hba.conf").open("a") as hba:
            hba.write("host replication postgres 127.0.0.1/32 trust\n")
        made.start("primary", made.primary_port)
        started.append("primary")
        made.pg("createdb", "-h", "127.0.0.1", "-p", str(made.primary_port),
                "-U", "postgres", "hub")  # fmt: skip
        asyncio.run(_migrate(made.primary_url))
        made.pg("pg_basebackup", "-h", "127.0.0.1", "-p", str(made.primary_port),
                "-U", "postgres", "-D", str(root / "replica"), "-R", "-X", "stream",
                "-c", "fast")  # fmt: skip
        made.start("replica", made.replica_port)
        started.append("replica")
        yield made
    finally:
        for name in reversed(started):
            with contextlib.suppress(subprocess.CalledProcessError):  # stopped
                made.stop(name, "immediate")
        shutil.rmtree(root, ignore_errors=True)


async def _migrate(url: str) -> None:
    engine = create_engine(Settings(database_url=url))
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


@dataclass
class Databases:
    primary: AsyncEngine
    replica: AsyncEngine  # the test's own look at the replica: pause, resume, wait

    async def caught_up(self) -> None:
        """Wait until the replica has replayed everything the primary wrote."""
        async with self.primary.connect() as conn:
            lsn = (await conn.execute(text("SELECT pg_current_wal_lsn()"))).scalar()
        for _ in range(200):
            async with self.replica.connect() as conn:
                done = await conn.scalar(
                    text("SELECT pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn)"),
                    {"lsn": lsn},
                )
            if done:
                return
            await asyncio.sleep(0.02)
        raise AssertionError("the replica did not catch up")

    async def pause(self) -> None:
        await self.caught_up()
        async with self.replica.connect() as conn:
            await conn.execute(text("SELECT pg_wal_replay_pause()"))
            while await conn.scalar(text("SELECT pg_get_wal_replay_pause_state()")) != (
                "paused"
            ):
                await asyncio.sleep(0.01)

    async def resume(self) -> None:
        async with self.replica.connect() as conn:
            await conn.execute(text("SELECT pg_wal_replay_resume()"))
        await self.caught_up()


@pytest.fixture
async def databases(pair: Pair) -> AsyncIterator[Databases]:
    made = Databases(
        create_engine(Settings(database_url=pair.primary_url)),
        create_engine(Settings(database_url=pair.replica_url)),
    )
    yield made
    await made.primary.dispose()
    await made.replica.dispose()


@pytest.fixture
def primary(databases: Databases) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(databases.primary)


@pytest.fixture
def max_lag() -> float:
    return 60.0  # far above any pause a test makes, unless a test says otherwise


@pytest.fixture
async def client(
    pair: Pair,
    primary: async_sessionmaker[AsyncSession],
    max_lag: float,
    tmp_path: Path,
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=pair.primary_url,
        database_replica_url=pair.replica_url,
        replica_max_lag_seconds=max_lag,
        clock=lambda: NOW,
        keys_dir=tmp_path / "keys",
        auth_cache_seconds=0,
        audit_batch_wait_ms=0,
        audit_keys_dir=tmp_path / "audit-keys",
        audit_checkpoint_file=tmp_path / "audit-checkpoints.jsonl",
    )
    app = create_app(settings, sessionmaker=primary)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as c:
        yield c
    await app.state.audit.aclose()
    await app.state.replica.aclose()


@pytest.fixture
def tokens(
    client: httpx.AsyncClient, primary: async_sessionmaker[AsyncSession]
) -> Tokens:
    return Tokens(client, primary)


async def _new_enterprise(primary: async_sessionmaker[AsyncSession]) -> str:
    async with primary() as session:
        e = b.enterprise()
        session.add(e)
        await session.commit()
        return e.code


async def _public_sees(client: httpx.AsyncClient, code: str) -> bool:
    return await _sees(client, code, headers=None)


async def _sees(
    client: httpx.AsyncClient, code: str, *, headers: dict[str, str] | None
) -> bool:
    response = await post_graphql(
        client, ENTERPRISE_QUERY, {"code": code}, headers=headers
    )
    return data_of(response)["enterprise"] is not None


class TestReplica:
    async def test_public_reads_the_replica_the_bureau_the_primary(
        self,
        client: httpx.AsyncClient,
        tokens: Tokens,
        databases: Databases,
        primary: async_sessionmaker[AsyncSession],
    ) -> None:
        # given
        bureau = await tokens.headers(AgencyKind.CITY_EPB)
        await databases.pause()
        try:
            code = await _new_enterprise(primary)
            # when / then: the replica has not replayed it, the primary has it
            assert not await _public_sees(client, code)
            assert await _sees(client, code, headers=bureau)
            # a published-only agency reads the replica too
            bank = await tokens.headers(AgencyKind.COMMERCIAL_BANK)
            assert not await _sees(client, code, headers=bank)
        finally:
            await databases.resume()
        # then: replayed, the public sees it
        assert await _public_sees(client, code)

    @pytest.mark.parametrize("max_lag", [1.0])
    async def test_a_lagging_replica_is_not_read(
        self,
        client: httpx.AsyncClient,
        databases: Databases,
        primary: async_sessionmaker[AsyncSession],
    ) -> None:
        # given: replay paused, a write the replica will not replay
        await databases.pause()
        try:
            code = await _new_enterprise(primary)
            await asyncio.sleep(1.5)  # the last replayed commit is now over 1 s old
            # when / then: over HUB_REPLICA_MAX_LAG_SECONDS, the primary answers
            assert await _public_sees(client, code)
        finally:
            await databases.resume()

    async def test_a_mutation_never_runs_on_the_replica(
        self,
        client: httpx.AsyncClient,
        tokens: Tokens,
        databases: Databases,
        primary: async_sessionmaker[AsyncSession],
    ) -> None:
        # given: a published-only agency (its queries read the replica)
        bank = await tokens.headers(AgencyKind.COMMERCIAL_BANK)
        code = await _new_enterprise(primary)
        await databases.pause()
        try:
            # when: a hot standby refuses every write, so success means the primary
            response = await post_graphql(
                client, WATCH, {"codes": [code]}, headers=bank
            )
            # then
            assert data_of(response) == {"watchEnterprises": {"added": 1}}
            async with primary() as session:
                watched = await session.scalars(
                    select(WatchedEnterprise.agency_id).where(
                        WatchedEnterprise.enterprise_code == code
                    )
                )
                assert len(watched.all()) == 1
        finally:
            await databases.resume()

    async def test_the_replica_going_away(
        self,
        pair: Pair,
        client: httpx.AsyncClient,
        databases: Databases,
        primary: async_sessionmaker[AsyncSession],
    ) -> None:
        # given: the replica has served the public (its pool holds a connection)
        code = await _new_enterprise(primary)
        await databases.caught_up()
        assert await _public_sees(client, code)
        await databases.replica.dispose()
        pair.stop("replica")
        try:
            # when: at once (the health check still says "usable"), and later
            later = await _new_enterprise(primary)
            first = await _public_sees(client, later)
            await asyncio.sleep(1.1)  # the health check's answer expired
            second = await _public_sees(client, later)
            # then: the primary answered both, no error
            assert (first, second) == (True, True)
        finally:
            pair.start("replica", pair.replica_port)
