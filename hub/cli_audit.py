"""`hub audit verify|export|prune|checkpoint|public-keys|rotate-key`.

The logic lives in hub/audit/ (the tests call the same functions); this
module parses options, opens the engine and prints. Results go to stdout;
refusals are one line on stderr and exit 1, never a traceback. Dates are
calendar days in China Standard Time, like every date the hub shows.
"""

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, NoReturn, TypeVar
from zoneinfo import ZoneInfo

import typer
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from auth.jwks import PinnedKey
from auth.keys import KeyStoreError, create_key
from hub.audit.bundle import BundleError, export_bundle, verify_bundle
from hub.audit.checkpoint import (
    Checkpoint,
    audit_jwks,
    public_keys,
    read_checkpoints,
    read_jwks,
)
from hub.audit.prune import PruneRefused, prune
from hub.audit.verify import Finding, Problem, Report, verify_database
from hub.audit.writer import AuditWriter
from hub.config import Settings
from hub.db import create_engine

audit_app = typer.Typer(
    help="The audit log: verify, export, prune, keys.", no_args_is_help=True
)
CST = ZoneInfo("Asia/Shanghai")
T = TypeVar("T")


def fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


@audit_app.command("verify")
def verify_command(
    bundle: Path | None = typer.Option(
        None,
        help="Verify this exported bundle (tar or directory) instead of the database.",
    ),
    checkpoints: Path | None = typer.Option(
        None,
        help="External checkpoint file [default: HUB_AUDIT_CHECKPOINT_FILE when "
        "verifying the database; none for a bundle].",
    ),
    public_keys_file: Path | None = typer.Option(
        None,
        "--public-keys",
        help="JWK Set of the audit keys [default: the keys in HUB_AUDIT_KEYS_DIR; "
        "for a bundle, its own jwks.json].",
    ),
) -> None:
    """Check every hash, link and signed checkpoint; print OK or the first problem."""
    keys = _read_keys(public_keys_file)
    if bundle is not None:
        external, errors = _read_checkpoints(checkpoints, required=True)
        try:
            _, report = verify_bundle(
                bundle, keys=keys, checkpoints=external, errors=errors
            )
        except BundleError as e:
            fail(str(e))
        _print_report(report, f"bundle {bundle}")
        return
    settings = Settings.from_env()
    path = checkpoints or settings.audit_checkpoint_file
    external, errors = _read_checkpoints(path, required=checkpoints is not None)
    if not path.exists():
        typer.echo(
            f"warning: no checkpoint file at {path}: a cut tail or a re-chained "
            "log cannot be detected from the database alone",
            err=True,
        )
    pinned = keys if keys is not None else _local_keys(settings)

    async def work(engine: AsyncEngine) -> Report:
        return await verify_database(
            engine, keys=pinned, checkpoints=external, errors=errors
        )

    _print_report(_with_engine(settings, work), "database")


@audit_app.command("export")
def export_command(
    since: str = typer.Option(..., "--from", help="First day (YYYY-MM-DD, CST)."),
    until: str = typer.Option(..., "--to", help="Last day, included."),
    output: Path = typer.Option(..., help="Bundle to write (.tar, or .tar.gz)."),
) -> None:
    """Write a verifiable bundle of the entries of a date range."""
    start, end = _day(since, "--from"), _day(until, "--to") + timedelta(days=1)
    if end <= start:
        fail("--to is before --from")
    settings = Settings.from_env()
    try:
        jwks = audit_jwks(settings.audit_keys_dir)
    except KeyStoreError as e:
        fail(str(e))

    async def work(engine: AsyncEngine) -> Any:
        return await export_bundle(engine, output, since=start, until=end, jwks=jwks)

    manifest = _with_engine(settings, work)
    typer.echo(
        f"wrote {output}: {_count(manifest.entries, 'entry', 'entries')} "
        f"(seq {manifest.first_seq}..{manifest.last_seq}), "
        f"{_count(manifest.checkpoints, 'checkpoint')}"
    )


@audit_app.command("prune")
def prune_command(
    before: str | None = typer.Option(
        None,
        help="Delete entries before this day [default: HUB_AUDIT_RETENTION_DAYS ago].",
    ),
) -> None:
    """Delete old entries up to a signed checkpoint; the log still verifies."""
    settings = Settings.from_env()
    if before is not None:
        cutoff = _day(before, "--before")
    else:
        today = settings.clock().astimezone(CST).date()
        cutoff = _midnight(today - timedelta(days=settings.audit_retention_days))
    external, errors = _read_checkpoints(settings.audit_checkpoint_file, required=False)
    if errors:
        fail(f"{settings.audit_checkpoint_file}: {errors[0].detail}")
    keys = _local_keys(settings)

    async def work(engine: AsyncEngine) -> Any:
        return await prune(engine, before=cutoff, keys=keys, checkpoints=external)

    try:
        pruned = _with_engine(settings, work)
    except PruneRefused as e:
        fail(str(e))
    if pruned is None:
        typer.echo(f"nothing to prune: no checkpoint before {cutoff:%Y-%m-%d}")
        return
    typer.echo(
        f"pruned {_count(pruned.deleted, 'entry', 'entries')}; the log now starts "
        f"at the checkpoint at seq {pruned.first_kept}"
    )


@audit_app.command("checkpoint")
def checkpoint_command() -> None:
    """Sign the chain's head now if it moved since the last checkpoint (for cron)."""
    settings = Settings.from_env()

    async def work(engine: AsyncEngine) -> Checkpoint | None:
        writer = AuditWriter(engine, settings)
        try:
            return await writer.checkpoint()
        finally:
            await writer.aclose()

    try:
        made = _with_engine(settings, work)
    except KeyStoreError as e:
        fail(str(e))
    if made is None:
        typer.echo("no new entries since the last checkpoint")
        return
    typer.echo(f"signed checkpoint at seq {made.seq} (key {made.kid})")


@audit_app.command("public-keys")
def public_keys_command(
    output: Path | None = typer.Option(None, help="Write here instead of stdout."),
) -> None:
    """Print the public JWK Set of the audit keys, for `verify --public-keys`."""
    settings = Settings.from_env()
    try:
        jwks = audit_jwks(settings.audit_keys_dir)
    except KeyStoreError as e:
        fail(str(e))
    if not jwks["keys"]:
        fail(f"no audit keys in {settings.audit_keys_dir}")
    text = json.dumps(jwks, indent=2) + "\n"
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as e:
        fail(f"cannot write {output}: {e.strerror}")
    typer.echo(f"wrote {output} ({len(jwks['keys'])} keys)")


@audit_app.command("rotate-key")
def rotate_key_command() -> None:
    """Add an audit signing key; old keys are kept to verify old checkpoints."""
    settings = Settings.from_env()
    try:
        key = create_key(settings.audit_keys_dir, settings.clock())
    except (KeyStoreError, OSError) as e:
        fail(str(e))
    typer.echo(f"new audit signing key {key.kid}")


def _with_engine(settings: Settings, work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    async def run() -> T:
        engine = create_engine(settings)
        try:
            return await work(engine)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except BundleError as e:
        fail(str(e))
    except OSError as e:
        fail(f"{e.filename or 'file'}: {e.strerror}")
    except SQLAlchemyError as e:
        fail(
            f"database error ({type(e).__name__}); is it migrated? run `hub db upgrade`"
        )


def _print_report(report: Report, what: str) -> None:
    if report.finding is not None:
        typer.echo(f"FAILED ({what}): {report.finding}")
        raise typer.Exit(1)
    span = f"seq {report.first_seq}..{report.last_seq}" if report.entries else "empty"
    typer.echo(
        f"OK ({what}): {_count(report.entries, 'entry', 'entries')} ({span}), "
        f"{_count(report.checkpoints, 'signed checkpoint')} matching"
    )
    if report.unsigned_tail:
        typer.echo(
            f"note: the last {report.unsigned_tail} entries are not yet covered by "
            "a checkpoint",
            err=True,
        )


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def _read_keys(path: Path | None) -> dict[str, PinnedKey] | None:
    if path is None:
        return None
    try:
        return read_jwks(path)
    except ValueError as e:
        fail(str(e))


def _local_keys(settings: Settings) -> dict[str, PinnedKey]:
    try:
        return public_keys(settings.audit_keys_dir)
    except (KeyStoreError, ValueError) as e:
        fail(str(e))


def _read_checkpoints(
    path: Path | None, *, required: bool
) -> tuple[list[Checkpoint], list[Finding]]:
    if path is None or (not required and not path.exists()):
        return [], []
    try:
        found, errors = read_checkpoints(path.read_bytes())
    except OSError as e:
        fail(f"cannot read {path}: {e.strerror}")
    return found, [
        Finding(None, Problem.CHECKPOINT_INVALID, f"{path} {e}") for e in errors
    ]


def _day(value: str, option: str) -> datetime:
    try:
        return _midnight(date.fromisoformat(value))
    except ValueError:
        fail(f"{option} must be a date like 2026-06-15, got {value!r}")


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=CST)
