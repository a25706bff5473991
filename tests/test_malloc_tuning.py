"""hub/malloc_tuning.py: scrypt's 16 MiB blocks do not stay with the threads.

Each case runs in a fresh interpreter: the setting is process-wide, and this
test process has set it already if any app here has started.
"""

import platform
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    platform.libc_ver()[0] != "glibc", reason="the setting is glibc's"
)

ROOT = Path(__file__).resolve().parent.parent

# Eight threads check a client secret three times each, as /oauth/token does
# (auth/server/adapter.py runs authlib in the threadpool); prints the growth
# of the process's resident memory in MiB.
SCRIPT = """
import asyncio, sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from auth.secrets import hash_secret, verify_secret
from hub.app import create_app
from hub.config import Settings


def rss_mib() -> int:
    with open("/proc/self/status") as status:
        line = next(x for x in status if x.startswith("VmRSS"))
    return int(line.split()[1]) // 1024


def check_secrets(stored: str) -> int:
    before = rss_mib()
    with ThreadPoolExecutor(8) as pool:
        for _ in range(3):
            assert all(pool.map(lambda _: verify_secret("s", stored), range(8)))
    return rss_mib() - before


async def main(start_app: bool, tmp: Path) -> int:
    stored = hash_secret("s")
    if not start_app:
        return check_secrets(stored)
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp / 'hub.db'}",
        keys_dir=tmp / "keys",
        audit_keys_dir=tmp / "audit-keys",
        audit_checkpoint_file=tmp / "checkpoints.jsonl",
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        return check_secrets(stored)


print(asyncio.run(main(sys.argv[1] == "app", Path(sys.argv[2]))))
"""


def growth_mib(tmp_path: Path, *, start_app: bool) -> int:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, "app" if start_app else "bare", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return int(done.stdout.strip().splitlines()[-1])


class TestScryptMemory:
    def test_a_started_app_gives_the_blocks_back(self, tmp_path: Path) -> None:
        assert growth_mib(tmp_path, start_app=True) < 40

    def test_without_it_each_thread_keeps_one(self, tmp_path: Path) -> None:
        # what the app's start-up prevents: about 16 MiB for each of 8 threads
        assert growth_mib(tmp_path, start_app=False) > 64
