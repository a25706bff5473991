"""`hub webhook add|list|remove` and `hub dispatch`: agencies' webhooks from the shell.

`add` registers an endpoint for an agency as the bureau's staff would on its
behalf; its events are those the agency's clients may read (or one client's,
with --client). The secret is printed once, to stdout. `dispatch` runs the
dispatcher (hub/webhooks/dispatcher.py) until SIGTERM or SIGINT, which let
the requests in flight finish and be recorded.
"""

import asyncio
import signal
from datetime import datetime
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from auth.clients import RegistryError, get_agency, list_agencies
from hub.cli_auth import err, in_session, out
from hub.config import Settings
from hub.db import create_engine, create_sessionmaker
from hub.enums import FeedDataset
from hub.logs import configure_logging
from hub.models import WebhookEndpoint
from hub.webhooks.dispatcher import Dispatcher
from resolvers.changes import encode_cursor
from resolvers.errors import HubError
from resolvers.feed import feed_head
from resolvers.webhook_outbox import held_scopes
from resolvers.webhooks import list_endpoints, register_endpoint, remove_endpoint

webhook_app = typer.Typer(help="Agencies' webhook endpoints.", no_args_is_help=True)

SECRET_WARNING = (
    "Give the secret to the agency now: it is shown once. Receivers verify "
    "webhook-signature with it (Standard Webhooks)."
)


@webhook_app.command("add")
def webhook_add(
    agency: Annotated[str, typer.Option(help="The agency's name.")],
    url: Annotated[str, typer.Option(help="https URL that receives the events.")],
    dataset: Annotated[
        list[FeedDataset] | None,
        typer.Option(
            case_sensitive=False,
            help="Only this dataset (repeatable); default: all the agency may read.",
        ),
    ] = None,
    kind: Annotated[
        list[str] | None,
        typer.Option(help="Only this kind, e.g. DOWNGRADED (repeatable)."),
    ] = None,
    client: Annotated[
        str | None,
        typer.Option(help="Deliver what this client may read (default: any client)."),
    ] = None,
    watchlist_only: Annotated[
        bool, typer.Option("--watchlist-only", help="Only watched enterprises.")
    ] = False,
    from_start: Annotated[
        bool, typer.Option("--from-start", help="The whole feed, not just new events.")
    ] = False,
) -> None:
    """Register a webhook for AGENCY; prints its id and secret."""

    async def work(session: AsyncSession, settings: Settings) -> tuple[int, str]:
        owner = await get_agency(session, agency)
        scopes = await held_scopes(session, owner.id, client)
        if not scopes:
            raise RegistryError(
                f"{owner.name} has no enabled client"
                + (f" {client}" if client else "")
                + ": its webhooks would deliver nothing"
            )
        try:
            made = await register_endpoint(
                session,
                agency_id=owner.id,
                client_id=client,
                scopes=scopes,
                url=url,
                datasets=dataset,
                kinds=[k.upper() for k in kind] if kind else None,
                watchlist_only=watchlist_only,
                from_start=from_start,
                settings=settings,
                now=settings.clock(),
            )
        except HubError as e:
            raise RegistryError(e.message) from None
        return made.webhook.id, made.secret

    endpoint_id, secret = in_session(work)
    out().print(f"webhook: {endpoint_id}", markup=False)
    out().print(f"secret: {secret}", markup=False)
    err().print(f"[yellow]{SECRET_WARNING}[/yellow]")


@webhook_app.command("list")
def webhook_list() -> None:
    """Every webhook: where it points and how far behind the feed it is."""

    async def work(
        session: AsyncSession, _settings: Settings
    ) -> tuple[list[WebhookEndpoint], dict[int, str], int]:
        names = {a.id: a.name for a in await list_agencies(session)}
        head = await feed_head(session)
        return await list_endpoints(session, agency_id=None), names, head

    endpoints, names, head = in_session(work)
    table = Table(
        "id", "agency", "url", "filters", "behind", "failing since", "next try"
    )
    for e in endpoints:
        filters = " ".join(
            [*(e.datasets or []), *(e.kinds or []), *(["watchlist"] * e.watchlist_only)]
        )
        table.add_row(
            str(e.id),
            escape(names.get(e.agency_id, "?")),
            escape(e.url),
            filters or "all",
            str(head - e.cursor_seq),
            _moment(e.first_failed_at if e.failing_seq is not None else None),
            _moment(e.next_attempt_at),
        )
    out().print(table)
    err().print(f"{len(endpoints)} webhook(s); feed head {encode_cursor(head)}")


def _moment(at: datetime | None) -> str:
    return "" if at is None else at.isoformat(timespec="seconds")


@webhook_app.command("remove")
def webhook_remove(
    id: Annotated[int, typer.Argument(help="The webhook's id.")],
) -> None:
    """Stop a webhook for good (its delivery log is kept)."""

    async def work(session: AsyncSession, settings: Settings) -> None:
        try:
            await remove_endpoint(session, id, agency_id=None, now=settings.clock())
        except HubError as e:
            raise RegistryError(e.message) from None

    in_session(work)
    out().print(f"webhook {id} removed")


def dispatch_command(
    once: Annotated[
        bool, typer.Option("--once", help="Deliver what is due now, then exit.")
    ] = False,
    interval: Annotated[
        float, typer.Option(min=0.05, help="Seconds between looks for due webhooks.")
    ] = 1.0,
) -> None:
    """Deliver change events to the webhooks, at least once, until stopped."""
    settings = Settings.from_env()
    configure_logging(settings.log_level)

    async def run() -> int:
        engine = create_engine(settings)
        try:
            async with Dispatcher(settings, create_sessionmaker(engine)) as dispatcher:
                loop = asyncio.get_running_loop()
                for stop_signal in (signal.SIGTERM, signal.SIGINT):
                    loop.add_signal_handler(stop_signal, dispatcher.stop)
                if once:
                    return await dispatcher.run_once()
                await dispatcher.run(interval=interval)
                return 0
        finally:
            await engine.dispose()

    made = asyncio.run(run())
    err().print(
        f"dispatcher stopped; {made} attempt(s)" if once else "dispatcher stopped"
    )
