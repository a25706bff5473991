"""`hub operations add|list|remove|mode`: each client's persisted operations.

The logic lives in hub/operations.py; this module reads the file, owns the
session (commits once, via `in_session`) and prints. Every change is then
written to the audit log as an ADMIN entry by the bureau's staff.
"""

import asyncio
import getpass
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from auth.clients import get_client
from hub.audit.record import EntryKind
from hub.audit.staff import record_staff_action
from hub.cli_auth import err, fail, in_session, out
from hub.config import Settings
from hub.db import create_engine
from hub.graphql import create_schema
from hub.operations import (
    Registered,
    list_operations,
    register_operation,
    remove_operation,
    set_persisted_only,
)

operations_app = typer.Typer(
    help="Persisted operations: the documents a client may run by id.",
    no_args_is_help=True,
)


@operations_app.command("add")
def operations_add(
    client_id: str = typer.Argument(..., help="The client the document is for."),
    file: Path = typer.Argument(..., help="A .graphql file: one or more operations."),
) -> None:
    """Register FILE for CLIENT_ID; prints its id (SHA-256 of the file's text)."""
    text = _read_text(file)
    schema = create_schema()
    actor = _actor()

    async def work(session: AsyncSession, settings: Settings) -> Registered:
        return await register_operation(
            session,
            schema,
            client_id=client_id,
            text=text,
            actor=actor,
            now=settings.clock(),
        )

    registered = in_session(work)
    operation = registered.operation
    names = ", ".join(operation.operation_names) or "(anonymous)"
    if registered.created:
        _audit(
            "operations add",
            {"clientId": client_id, "sha256": operation.sha256, "operations": names},
        )
    out().print(operation.sha256, markup=False)
    state = "registered" if registered.created else "already registered"
    err().print(
        f"{state} for client {client_id}: {escape(names)}; send it as "
        f'"documentId": "sha256:{operation.sha256}"'
    )


@operations_app.command("list")
def operations_list(
    client_id: str | None = typer.Argument(None, help="Only this client's."),
) -> None:
    """List registered documents (id, client, operation names, when, by whom)."""

    async def work(session: AsyncSession, _settings: Settings) -> Table:
        if client_id is not None:
            client = await get_client(session, client_id)
            mode = "persisted-only" if client.persisted_only else "hybrid"
            out().print(f"client {client_id}: {mode}", markup=False)
        table = Table()
        for name in ("sha256", "client_id", "operations", "created (UTC)", "by"):
            table.add_column(name, overflow="fold", min_width=_WIDTHS.get(name))
        for op in await list_operations(session, client_id):
            table.add_row(
                op.sha256,
                op.client_id,
                escape(", ".join(op.operation_names) or "(anonymous)"),
                f"{op.created_at:%Y-%m-%d %H:%M:%S}",
                escape(op.created_by),
            )
        return table

    out().print(in_session(work))


@operations_app.command("remove")
def operations_remove(
    client_id: str = typer.Argument(...),
    document_id: str = typer.Argument(..., help="sha256:<hex> or <hex>."),
) -> None:
    """Remove a client's document; its id is refused within HUB_AUTH_CACHE_SECONDS."""

    async def work(session: AsyncSession, settings: Settings) -> tuple[str, float]:
        sha256 = await remove_operation(session, client_id, document_id)
        return sha256, settings.auth_cache_seconds

    sha256, budget = in_session(work)
    _audit("operations remove", {"clientId": client_id, "sha256": sha256})
    out().print(
        f"document {sha256} of client {client_id} removed; refused on every "
        f"worker within {budget:g} s"
    )


@operations_app.command("mode")
def operations_mode(
    client_id: str = typer.Argument(...),
    persisted_only: bool = typer.Option(
        ...,
        "--persisted-only/--hybrid",
        help="Registered documents only, or raw queries too.",
    ),
) -> None:
    """Let a client run only its registered documents, or raw queries too."""

    async def work(session: AsyncSession, settings: Settings) -> float:
        await set_persisted_only(session, client_id, persisted_only)
        return settings.auth_cache_seconds

    budget = in_session(work)
    mode = "persisted-only" if persisted_only else "hybrid"
    _audit("operations mode", {"clientId": client_id, "mode": mode})
    out().print(
        f"client {client_id} is {mode}; in force on every worker within {budget:g} s"
    )


_WIDTHS = {"sha256": 64, "client_id": 24}


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except OSError as e:
        fail(f"cannot read {path}: {e.strerror or e}")
    except UnicodeDecodeError:
        fail(f"{path} is not UTF-8 text")


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _audit(operation: str, variables: dict[str, Any]) -> None:
    """One ADMIN entry per change; a warning when the audit log cannot be written
    (the change is committed already, as with `hub import`)."""
    settings = Settings.from_env()

    async def run() -> bool:
        engine = create_engine(settings)
        try:
            return await record_staff_action(
                engine,
                settings,
                kind=EntryKind.ADMIN,
                at=settings.clock(),
                actor=_actor(),
                operation=operation,
                variables=variables,
            )
        finally:
            await engine.dispose()

    if not asyncio.run(run()):
        err().print("[yellow]warning: the audit log could not be written[/yellow]")
