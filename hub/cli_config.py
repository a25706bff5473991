"""`hub config check`: the configuration as the server reads it, every problem named.

Values are read exactly as `Settings.from_env` reads them (process environment
over `.env`). Secrets are never printed: URLs are shown with the password
masked, and no other value of a URL-typed setting appears.
"""

import asyncio
import difflib
import importlib.util
import ipaddress
import os
import stat
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields, replace
from enum import Enum
from pathlib import Path
from typing import Any

import typer
from alembic.script import ScriptDirectory
from rich.console import Console
from rich.markup import escape
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from starlette.config import Config
from starlette.datastructures import Secret

from auth.external import ExternalIssuer, ExternalIssuerError
from auth.keys import KeyStoreError, load_keys
from hub.config import VARIABLES, Settings
from hub.db import create_engine
from hub.evaluate.loading import active_policies
from hub.evaluate.policy_source import PolicyError
from hub.migrate import alembic_config, current_revision
from hub.review.rulebook import load_rulebook

config_app = typer.Typer(help="The hub's configuration.", no_args_is_help=True)

ENV_FILE = Path(".env")
DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")
# Read by the test suite and CI, not by the hub.
TOOLING = ("HUB_TEST_", "HUB_REQUIRE_BROWSER")
_BOOLS = {"true": True, "1": True, "false": False, "0": False}


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the report: what was checked and the problem, if any."""

    name: str
    detail: str
    ok: bool = True


def problem(name: str, detail: str) -> Check:
    return Check(name, detail, ok=False)


@config_app.command("check")
def check_command(
    env_file: Path = typer.Option(ENV_FILE, help="The .env file the hub reads."),
    connect: bool = typer.Option(
        False, "--connect", help="Also connect: the database answers and is migrated."
    ),
) -> None:
    """Validate the configuration and name every problem; exit 1 if there is one."""
    checks = list(run_checks(env_file, connect=connect))
    console = Console(highlight=False, soft_wrap=True)
    for check in checks:
        status = "[green]ok[/green]     " if check.ok else "[red]problem[/red]"
        console.print(f"{status} {escape(check.name)}: {escape(check.detail)}")
    failed = sum(not c.ok for c in checks)
    console.print(f"{failed} problem(s)" if failed else "configuration ok")
    if failed:
        raise typer.Exit(1)


def run_checks(env_file: Path, *, connect: bool) -> Iterator[Check]:
    """Every check in order; the settings-dependent ones only once settings load."""
    config = Config(env_file if env_file.is_file() else None)
    yield from unknown_variables(config, env_file)
    settings, checks = read_settings(env_file, config)
    yield from checks
    if settings is None:
        return
    yield from database_urls(settings)
    if connect:
        yield asyncio.run(database_state(settings))
    yield from key_directory("HUB_KEYS_DIR", settings.keys_dir)
    yield from key_directory("HUB_AUDIT_KEYS_DIR", settings.audit_keys_dir)
    yield creatable("HUB_AUDIT_CHECKPOINT_FILE", settings.audit_checkpoint_file)
    yield from policies(settings)
    if settings.external_issuer:
        yield external_issuer(settings)
    if settings.otel_enabled:
        yield otel_installed()


def unknown_variables(config: Config, env_file: Path) -> Iterator[Check]:
    known = [v.name for v in VARIABLES]
    sources = [("environment", os.environ.keys()), (str(env_file), config.file_values)]
    for where, names in sources:
        for name in sorted(names):
            if not name.startswith("HUB_") or name in known:
                continue
            if name.startswith(TOOLING):
                continue
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            yield problem(name, f"set in {where} but not a hub setting{hint}")


def read_settings(
    env_file: Path, config: Config
) -> tuple[Settings | None, list[Check]]:
    """Each variable on its own (so every bad one is named), then all together.

    When they do not load together, the later checks run on the valid values
    (defaults for the rest), so one bad number hides nothing else.
    """
    checks: list[Check] = []
    casts = _casts()
    valid: dict[str, Any] = {}
    for variable in VARIABLES:
        raw = config(variable.name, default=None)
        if raw is None or variable.name not in casts:
            continue
        field_name, cast = casts[variable.name]
        try:
            value = cast(raw)
            replace(Settings(), **{field_name: value})
        except (ValueError, TypeError) as e:
            checks.append(problem(variable.name, _safe(variable.name, e)))
        else:
            valid[field_name] = value
    try:
        settings = Settings.from_env(env_file)
    except (ValueError, TypeError) as e:
        # The combination's first error, when no single variable explains it.
        if not checks:
            checks.append(problem("settings", _safe("", e)))
        try:
            return Settings(**valid), checks
        except (ValueError, TypeError):
            return None, checks
    count = len(valid) + len(checks)
    if not checks:
        checks.append(Check("settings", f"{count} HUB_* variables set, all valid"))
    return settings, checks


def database_urls(settings: Settings) -> Iterator[Check]:
    # Also the read replica's URL, for a Settings that has one.
    for field_name in ("database_url", "database_replica_url"):
        value = getattr(settings, field_name, None)
        if not value:
            continue
        name = f"HUB_{field_name.upper()}"
        try:
            url = make_url(value)
        except ArgumentError:
            yield problem(name, "not a database URL")
            continue
        shown = masked(url)
        if url.drivername not in DRIVERS:
            yield problem(
                name,
                f"{shown}: driver {url.drivername}, use one of {', '.join(DRIVERS)}",
            )
        else:
            yield Check(name, shown)


def masked(url: URL) -> str:
    return url.render_as_string(hide_password=True)


async def database_state(settings: Settings) -> Check:
    """Connect once: the database answers and sits at the newest migration."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    url = make_url(settings.database_url)
    database = url.database or ":memory:"
    file_missing = database != ":memory:" and not Path(database).is_file()
    if url.get_backend_name() == "sqlite" and file_missing:  # connecting creates it
        return problem("database", f"{database} does not exist: run `hub db upgrade`")
    engine = create_engine(settings)
    try:
        async with engine.connect() as conn:
            revision = await current_revision(conn)
    except Exception as e:  # any driver's failure is one line, never its text
        return problem("database", f"cannot connect ({type(e).__name__})")
    finally:
        await engine.dispose()
    if revision != head:
        return problem(
            "database",
            f"at revision {revision or 'none'}, newest is {head}: run `hub db upgrade`",
        )
    return Check("database", f"answers, migrations current ({head})")


def key_directory(name: str, directory: Path) -> Iterator[Check]:
    """The directory is private (0700) or can be created; its keys load."""
    if not directory.exists():
        yield creatable(name, directory)
        return
    if not directory.is_dir():
        yield problem(name, f"{directory} is not a directory")
        return
    mode = stat.S_IMODE(directory.stat().st_mode)
    found = []
    if mode & 0o077:
        found.append(f"{directory} has mode {mode:04o}, should be 0700 (chmod 700)")
    if not os.access(directory, os.W_OK | os.X_OK):
        found.append(f"{directory} is not writable by this user")
    try:
        keys = load_keys(directory)
    except KeyStoreError as e:
        found.append(str(e))
    yield from (problem(name, f) for f in found)
    if not found:
        yield Check(name, f"{directory} (0700, {len(keys)} keys)")


def creatable(name: str, path: Path) -> Check:
    """`path` exists, or its nearest existing ancestor lets this user create it."""
    if path.exists():
        return Check(name, f"{path} exists")
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if os.access(ancestor, os.W_OK | os.X_OK):
        return Check(name, f"{path} can be created")
    return problem(name, f"{path} cannot be created: {ancestor} is not writable")


def policies(settings: Settings) -> Iterator[Check]:
    loaders: list[tuple[str, Callable[[], object]]] = [
        ("HUB_POLICY_DIR", lambda: active_policies(settings)),
        ("HUB_REVIEW_POLICY_DIR", lambda: load_rulebook(settings.review_policy_dir)),
    ]
    for name, load in loaders:
        try:
            load()
        except PolicyError as e:
            yield problem(name, str(e))
        else:
            yield Check(name, "policy files load")


def external_issuer(settings: Settings) -> Check:
    try:
        ExternalIssuer.from_settings(settings)
    except ExternalIssuerError as e:
        return problem("HUB_EXTERNAL_ISSUER", str(e))
    return Check("HUB_EXTERNAL_ISSUER", "JWKS file loads")


def otel_installed() -> Check:
    missing = [
        module
        for module in ("opentelemetry.sdk", "opentelemetry.instrumentation.asgi")
        if importlib.util.find_spec(module.split(".")[0]) is None
        or importlib.util.find_spec(module) is None
    ]
    if missing:
        return problem(
            "HUB_OTEL_ENABLED",
            f"{', '.join(missing)} not installed: pip install 'ecredit-hub[otel]'",
        )
    return Check("HUB_OTEL_ENABLED", "OpenTelemetry installed")


def _casts() -> dict[str, tuple[str, Callable[[str], Any]]]:
    """HUB_X -> (field, parse) from Settings' own field types."""
    hints = typing.get_type_hints(Settings)
    return {
        f"HUB_{f.name.upper()}": (f.name, _cast_for(hints[f.name]))
        for f in fields(Settings)
        if f.compare
    }


def _cast_for(kind: Any) -> Callable[[str], Any]:
    args = typing.get_args(kind)
    if isinstance(kind, types.UnionType) and type(None) in args:
        inner = _cast_for(next(a for a in args if a is not type(None)))
        return lambda raw: inner(raw) if raw else None  # empty: unset
    if isinstance(kind, types.UnionType):  # the IP networks of HUB_METRICS_ALLOW
        return lambda raw: ipaddress.ip_network(raw, strict=False)
    if typing.get_origin(kind) is tuple:
        item = _cast_for(args[0])
        return lambda raw: tuple(item(p.strip()) for p in raw.split(",") if p.strip())
    if kind is bool:
        return _bool
    if isinstance(kind, type) and issubclass(kind, (Enum, int, float)):
        return _parse(kind)
    return kind if kind in (str, Path, Secret) else str


def _parse(kind: type) -> Callable[[str], Any]:
    def parse(raw: str) -> Any:
        try:
            return kind(raw)
        except ValueError:
            raise ValueError(f"{raw!r} is not a valid {kind.__name__}") from None

    return parse


def _bool(raw: str) -> bool:
    if raw.lower() not in _BOOLS:
        raise ValueError(f"{raw!r} is not a valid bool (true, false, 1 or 0)")
    return _BOOLS[raw.lower()]


def _safe(name: str, error: Exception) -> str:
    """The message, except for a URL or Secret setting, whose value it may quote."""
    hints = typing.get_type_hints(Settings)
    field_name = name.removeprefix("HUB_").lower()
    secret = (
        Secret in typing.get_args(hints.get(field_name))
        or hints.get(field_name) is Secret
    )
    if name.endswith("_URL") or secret:
        return "invalid value (not shown)"
    return str(error)
