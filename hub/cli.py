"""The `hub` command: serve, migrate, seed, export the schema."""

import asyncio
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from sqlalchemy import func, select

from hub.cli_audit import audit_app
from hub.cli_auth import agency_app, client_app, demo_app, external_app, keys_app
from hub.cli_backup import backup_command, restore_command
from hub.cli_config import config_app
from hub.cli_evaluate import evaluate_app
from hub.cli_export import export_command
from hub.cli_import import import_command
from hub.cli_lists import lists_app
from hub.cli_operations import operations_app
from hub.cli_review import review_command, subsidy_app
from hub.cli_webhooks import dispatch_command, webhook_app
from hub.config import Settings
from hub.db import create_engine, is_unavailable
from hub.migrate import upgrade
from hub.models import Enterprise
from hub.serve import HUB_FACTORY, serve as run_server
from resolvers.context import cst_date
from schema.build import SDL_PATH, print_sdl
from seeds.loader import SeedError, load_demo

app = typer.Typer(help="Environmental credit information hub.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(agency_app, name="agency")
app.add_typer(client_app, name="client")
app.add_typer(keys_app, name="keys")
app.add_typer(external_app, name="external")
app.add_typer(demo_app)
app.add_typer(audit_app, name="audit")
app.command("import")(import_command)
app.command("export")(export_command)
app.command("backup")(backup_command)
app.command("restore")(restore_command)
app.add_typer(webhook_app, name="webhook")
app.command("dispatch")(dispatch_command)
app.add_typer(evaluate_app, name="evaluate")
app.add_typer(lists_app, name="lists")
app.add_typer(operations_app, name="operations")
app.command("review")(review_command)
app.add_typer(subsidy_app, name="subsidy")
app.add_typer(config_app, name="config")
console = Console(stderr=True)


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Bind address [HUB_HOST]."),
    port: int | None = typer.Option(None, help="Port [HUB_PORT]."),
    workers: int | None = typer.Option(None, help="Worker processes [HUB_WORKERS]."),
) -> None:
    """Serve the hub (GraphiQL at /graphql); each worker its own SO_REUSEPORT socket."""
    settings = Settings.from_env()
    status = run_server(
        HUB_FACTORY,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
        log_level=settings.log_level,
    )
    if status:
        raise typer.Exit(status)


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply the migrations up to REVISION."""
    settings = Settings.from_env()

    async def run() -> None:
        engine = create_engine(settings)
        try:
            await upgrade(engine, revision)
        finally:
            await engine.dispose()

    asyncio.run(run())
    console.print(f"database at revision {revision}")


@app.command()
def seed(
    enterprises: int = typer.Option(
        2000, min=1, max=1_000_000, help="How many enterprises."
    ),
    seed: int = typer.Option(
        2026, help="Random seed: the same seed gives the same data."
    ),
    if_empty: bool = typer.Option(
        False, "--if-empty", help="Do nothing when data exists."
    ),
) -> None:
    """Load deterministic demo data into an empty database."""
    settings = Settings.from_env()
    today = cst_date(settings.clock())

    async def run() -> None:
        engine = create_engine(settings)
        try:
            async with engine.connect() as conn:
                existing = await conn.scalar(
                    select(func.count()).select_from(Enterprise)
                )
            if existing and if_empty:
                console.print(
                    f"database already holds {existing} enterprises; not seeding"
                )
                return
            started = time.monotonic()
            with Progress(
                TextColumn("seeding"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
            ) as bar:
                task = bar.add_task("enterprises", total=enterprises)
                summary = await load_demo(
                    engine,
                    enterprises=enterprises,
                    seed=seed,
                    today=today,
                    progress=lambda done: bar.update(task, completed=done),
                )
            console.print(f"loaded {summary} in {time.monotonic() - started:.1f} s")
        finally:
            await engine.dispose()

    try:
        asyncio.run(run())
    except SeedError as e:
        console.print(f"[red]seed refused:[/red] {e}")
        raise typer.Exit(1) from None


@app.command("export-schema")
def export_schema(
    output: Path = typer.Option(SDL_PATH, help="Where to write the SDL."),
) -> None:
    """Write the GraphQL SDL (schema/schema.graphql by default)."""
    output.write_text(print_sdl(), encoding="utf-8")
    console.print(f"wrote {output}")


def main() -> None:
    """The `hub` command: a database that cannot be reached is one line, not a
    traceback, whichever subcommand met it."""
    try:
        app()
    except Exception as e:
        if not is_unavailable(e):
            raise
        console.print(
            "[red]the database cannot be reached[/red] "
            f"({type(e).__name__}); check HUB_DATABASE_URL and that the server is up"
        )
        raise SystemExit(1) from None
