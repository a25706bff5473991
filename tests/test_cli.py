"""The `hub` command as a newcomer meets it: seed, demo clients, schema export."""

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from hub.credit_code import parse_credit_code
from schema.build import print_sdl
from tests.helpers import hub


def test_seed_then_demo_clients(cli: Path) -> None:
    # when
    seeded = hub("seed", "--enterprises", "30", "--seed", "7")
    again = hub("seed", "--if-empty", "--enterprises", "30")
    refused = hub("seed", "--enterprises", "30")
    demo = hub("demo-clients")
    # then
    assert seeded.exit_code == 0, seeded.output
    assert "enterprise=30" in seeded.stderr
    assert again.exit_code == 0
    assert "already holds 30 enterprises" in again.stderr
    assert refused.exit_code == 1
    assert "seed refused" in refused.stderr
    assert demo.exit_code == 0, demo.output
    written = json.loads((cli / "var" / "demo-clients.json").read_text())
    kinds = {c["kind"] for c in written["clients"]}
    assert "ENTERPRISE" in kinds
    assert "COUNTY_EPB" in kinds


def test_export_schema(cli: Path) -> None:
    result = hub("export-schema", "--output", str(cli / "schema.graphql"))
    assert result.exit_code == 0
    assert (cli / "schema.graphql").read_text(encoding="utf-8") == print_sdl()


def test_seeded_codes_are_valid(cli: Path) -> None:
    assert hub("seed", "--enterprises", "5").exit_code == 0
    with sqlite3.connect(cli / "hub.db") as conn:
        codes = [r[0] for r in conn.execute("SELECT code FROM enterprise")]
    assert [parse_credit_code(c) for c in codes] == codes


def test_an_unreachable_database_is_one_line(tmp_path: Path) -> None:
    """Any subcommand that meets a database that is down says so, no traceback."""
    hub_binary = Path(sys.executable).with_name("hub")
    env = {
        **os.environ,
        "HUB_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:1/nope",
        "COLUMNS": "200",
    }
    result = subprocess.run(
        [str(hub_binary), "evaluate", "list", "--year", "2025"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "the database cannot be reached" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
