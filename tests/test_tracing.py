"""OpenTelemetry is an optional extra: off by default, and never imported then."""

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from hub.app import create_app
from hub.config import Settings
from hub.tracing import TracingUnavailable

ROOT = Path(__file__).resolve().parent.parent

BUILD_THE_DEFAULT_APP = """
import sys
from pathlib import Path
from hub.app import create_app
from hub.cli import app
from hub.config import Settings
create_app(Settings(database_url="sqlite+aiosqlite:///{db}", keys_dir=Path("{tmp}/keys")))
print(sorted(m for m in sys.modules if m.split(".")[0] == "opentelemetry"))
"""


def test_the_default_app_imports_no_opentelemetry(tmp_path: Path) -> None:
    code = BUILD_THE_DEFAULT_APP.format(db=tmp_path / "hub.db", tmp=tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,  # nothing written under the repository
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_enabled_without_the_extra_refuses_to_start(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: the otel extra is not importable
    monkeypatch.setitem(sys.modules, "opentelemetry", None)
    # when / then
    with pytest.raises(TracingUnavailable, match=r"pip install 'ecredit-hub\[otel\]'"):
        create_app(replace(settings, otel_enabled=True))
