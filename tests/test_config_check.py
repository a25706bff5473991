"""`hub config check`, and the one list of HUB_* variables the README documents."""

import inspect
import re
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from hub.config import VARIABLES, Settings
from hub.migrate import alembic_config
from tests.helpers import hub

README = Path(__file__).resolve().parent.parent / "README.md"


def configuration_table() -> dict[str, str]:
    """README's Configuration table: variable -> its default cell."""
    section = README.read_text(encoding="utf-8").split("## Configuration\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    defaults: dict[str, str] = {}
    for row in re.findall(r"^\| (`HUB_.*) \|$", section, flags=re.MULTILINE):
        names_cell, default_cell, _meaning = row.split(" | ", 2)
        names = re.findall(r"`(HUB_\w+)`", names_cell)
        cells = default_cell.split(" / ")
        for i, name in enumerate(names):
            defaults[name] = cells[i] if len(cells) == len(names) else default_cell
    return defaults


class TestVariables:
    def test_readme_lists_every_variable_with_its_default(self) -> None:
        table = configuration_table()
        for variable in VARIABLES:
            assert variable.name in table, f"{variable.name} missing from README"
            cell = table[variable.name]
            if variable.default is None:
                assert cell.startswith("unset"), (variable.name, cell)
            else:
                assert f"`{variable.default}`" in cell, (variable.name, cell)

    def test_each_variable_is_listed_once(self) -> None:
        names = [v.name for v in VARIABLES]
        assert sorted(n for n in set(names) if names.count(n) > 1) == []

    def test_readme_lists_nothing_else(self) -> None:
        assert set(configuration_table()) == {v.name for v in VARIABLES}

    def test_every_variable_settings_reads_is_listed(self) -> None:
        read = set(re.findall(r'"(HUB_\w+)"', inspect.getsource(Settings.from_env)))
        assert read == {v.name for v in VARIABLES}


HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


class TestConfigCheck:
    def test_a_good_configuration(self, cli: Path) -> None:
        # when
        result = hub("config", "check", "--connect")
        # then
        assert result.exit_code == 0, result.output
        assert result.output.splitlines() == [
            "ok      settings: 2 HUB_* variables set, all valid",
            f"ok      HUB_DATABASE_URL: sqlite+aiosqlite:///{cli / 'hub.db'}",
            f"ok      database: answers, migrations current ({HEAD})",
            f"ok      HUB_KEYS_DIR: {cli / 'keys'} can be created",
            "ok      HUB_AUDIT_KEYS_DIR: var/audit-keys can be created",
            "ok      HUB_AUDIT_CHECKPOINT_FILE: var/audit-checkpoints.jsonl can be created",
            "ok      HUB_POLICY_DIR: policy files load",
            "ok      HUB_REVIEW_POLICY_DIR: policy files load",
            "configuration ok",
        ]

    def test_every_problem_is_named_and_no_secret_printed(
        self, cli: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # given: a typo and a bad number in .env, more in the environment
        (cli / ".env").write_text(
            "HUB_DATABSE_URL=sqlite+aiosqlite:///x.db\nHUB_PORT=eighty\n"
        )
        keys = cli / "keys"
        keys.mkdir(mode=0o755)
        keys.chmod(0o755)
        env = {
            "HUB_DATABASE_URL": "postgresql://hub:hunter2-s3cret@db.internal/hub",
            "HUB_TOKEN_TTL_SECONDS": "3600",
            "HUB_GRAPHIQL": "maybe",
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        # when
        result = hub("config", "check")
        # then
        assert result.exit_code == 1
        assert "hunter2" not in result.output
        lines = result.output.splitlines()
        assert lines[:5] == [
            "problem HUB_DATABSE_URL: set in .env but not a hub setting; did you mean "
            "HUB_DATABASE_URL?",
            "problem HUB_PORT: 'eighty' is not a valid int",
            "problem HUB_GRAPHIQL: 'maybe' is not a valid bool (true, false, 1 or 0)",
            "problem HUB_TOKEN_TTL_SECONDS: HUB_TOKEN_TTL_SECONDS must be 1..900, got 3600",
            "problem HUB_DATABASE_URL: postgresql://hub:***@db.internal/hub: driver "
            "postgresql, use one of sqlite+aiosqlite, postgresql+asyncpg",
        ]
        assert (
            f"problem HUB_KEYS_DIR: {keys} has mode 0755, should be 0700 (chmod 700)"
            in lines
        )
        assert lines[-1] == "6 problem(s)"

    def test_an_unmigrated_database(
        self, cli: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # given: a database file that does not exist yet
        url = f"sqlite+aiosqlite:///{cli / 'new.db'}"
        monkeypatch.setenv("HUB_DATABASE_URL", url)
        # when
        result = hub("config", "check", "--connect")
        # then: reported, and not created by the check
        assert result.exit_code == 1
        assert (
            f"problem database: {cli / 'new.db'} does not exist: run `hub db upgrade`"
            in result.output.splitlines()
        )
        assert not (cli / "new.db").exists()

    def test_a_broken_policy_directory(
        self, cli: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # given
        policy = cli / "policy"
        policy.mkdir()
        monkeypatch.setenv("HUB_REVIEW_POLICY_DIR", str(policy))
        # when
        result = hub("config", "check")
        # then
        assert result.exit_code == 1
        assert "problem HUB_REVIEW_POLICY_DIR: " in result.output
        assert "no policy files" in result.output
