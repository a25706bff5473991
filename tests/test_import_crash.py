"""Kill -9 of `hub import` in the middle of its transaction: nothing of the
file is visible, and running the import again lands it whole (RELIABILITY F9).

PostgreSQL only: the test holds a SHARE lock on penalty_decision, so the
import reads freely, writes its batch row, then waits on its first insert of
a decision, a known point inside the transaction, where it is killed.
"""

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from hub.models import AuditEntry, CollectionBatch, PenaltyDecision
from seeds import builders as b

pytestmark = pytest.mark.anyio

HUB = str(Path(sys.executable).with_name("hub"))
ROWS = 300


def penalties_csv(codes: list[str]) -> bytes:
    header = (
        "行政处罚决定书文号,统一社会信用代码,处罚类别,违法行为类型,违法事实,处罚依据,"
        "罚款金额（万元）,处罚决定日期,处罚机关,处罚机关统一社会信用代码\n"
    )
    rows = "".join(
        f"锡山环罚决〔2026〕{i}号,{code},罚款,超标排放,超标,水污染防治法第八十三条,"
        f"1.5,2026-03-01,无锡市锡山生态环境局,{b.CITY_BUREAU_CODE}\n"
        for i, code in enumerate(codes, 1)
    )
    return (header + rows).encode("gb18030")


async def count(engine: AsyncEngine, model: type) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(model)) or 0)


async def test_kill_9_inside_the_import_transaction(
    engine: AsyncEngine, db: AsyncSession, database_url: str, tmp_path: Path
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL's table locks to stop the import mid-transaction")
    # given: the register, and a file of one decision per enterprise
    enterprises = [b.enterprise() for _ in range(ROWS)]
    db.add_all(enterprises)
    await db.commit()
    path = tmp_path / "处罚.csv"
    path.write_bytes(penalties_csv([e.code for e in enterprises]))
    env = {
        **os.environ,
        "HUB_DATABASE_URL": database_url,
        "HUB_AUDIT_KEYS_DIR": str(tmp_path / "audit-keys"),
        "HUB_AUDIT_CHECKPOINT_FILE": str(tmp_path / "checkpoints.jsonl"),
    }
    async with engine.connect() as blocker:
        await blocker.execute(text("LOCK TABLE penalty_decision IN SHARE MODE"))
        process = subprocess.Popen(
            [HUB, "import", "penalties", str(path)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            # when: the import waits on its insert, inside its transaction
            await wait_for_lock_wait(engine, process)
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        finally:
            if process.poll() is None:
                process.kill()
        await blocker.rollback()
    # then: nothing of it is visible, not even its batch row
    assert process.returncode == -signal.SIGKILL
    assert await count(engine, PenaltyDecision) == 0
    assert await count(engine, CollectionBatch) == 0
    # and the same command again lands the whole file, audited once
    again = await asyncio.to_thread(
        subprocess.run,
        [HUB, "import", "penalties", str(path)],
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert again.returncode == 0, again.stderr.decode()
    assert await count(engine, PenaltyDecision) == ROWS
    assert await count(engine, CollectionBatch) == 1
    async with engine.connect() as conn:
        kinds = (await conn.scalars(select(AuditEntry.kind))).all()
    assert kinds == ["IMPORT"]


async def wait_for_lock_wait(
    engine: AsyncEngine, process: subprocess.Popen[bytes]
) -> None:
    """Until another backend waits on a lock (our import's INSERT)."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND query ILIKE 'INSERT INTO penalty_decision%' AND pid <> pg_backend_pid()"
    )
    for _ in range(600):
        if process.poll() is not None:
            raise AssertionError(f"hub import exited early with {process.returncode}")
        async with engine.connect() as conn:
            if await conn.scalar(query):
                return
        await asyncio.sleep(0.05)
    raise AssertionError("hub import never reached its insert in 30 s")
