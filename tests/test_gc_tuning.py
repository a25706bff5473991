"""hub/gc_tuning.py: a started app freezes its heap and collects young objects
less often; a stopped one leaves the collector as CPython set it.

Runs in a fresh interpreter: the settings are process-wide, and this test
process has changed them already if any app here has started.
"""

import json
import subprocess
import sys
from pathlib import Path

from hub.gc_tuning import YOUNG_THRESHOLD

ROOT = Path(__file__).resolve().parent.parent

# Prints the collector's thresholds and frozen count before, during and after
# an app's lifespan, as JSON.
SCRIPT = """
import asyncio, gc, json, sys
from pathlib import Path

from hub.app import create_app
from hub.config import Settings


def state() -> list[int]:
    return [*gc.get_threshold(), gc.get_freeze_count()]


async def main(tmp: Path) -> list[list[int]]:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp / 'hub.db'}",
        keys_dir=tmp / "keys",
        audit_keys_dir=tmp / "audit-keys",
        audit_checkpoint_file=tmp / "checkpoints.jsonl",
    )
    app = create_app(settings)
    before = state()
    async with app.router.lifespan_context(app):
        during = state()
    return [before, during, state()]


print(json.dumps(asyncio.run(main(Path(sys.argv[1])))))
"""


def test_collector_settings_follow_the_lifespan(tmp_path: Path) -> None:
    # when
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    before, during, after = json.loads(done.stdout.strip().splitlines()[-1])
    # then
    assert before == [700, 10, 10, 0]  # CPython's defaults, nothing frozen
    assert during[:3] == [YOUNG_THRESHOLD, 10, 10]
    assert during[3] > 10_000  # start-up's objects, frozen
    assert after == before
