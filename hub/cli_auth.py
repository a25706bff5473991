"""`hub agency|client|keys|external ...` and `hub demo-clients`: credentials by hand.

The logic lives in auth/clients.py and auth/keys.py (the tests call the same
functions); this module parses options, owns the session (commits once) and
prints. Secrets are printed once, to stdout; messages go to stderr. Refusals
are one line and exit 1, never a traceback.
"""

import asyncio
import json
import math
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from auth.clients import (
    RegistryError,
    add_external_client,
    create_agency,
    create_client,
    disable_client,
    get_agency,
    list_agencies,
    list_clients,
    rotate_secret,
)
from auth.keys import KeyStoreError, load_keys, rotate_keys
from auth.scopes import ScopeError, parse_scopes
from auth.tokens import LEEWAY_SECONDS
from hub.config import Settings
from hub.db import create_engine, create_sessionmaker
from hub.enums import AgencyKind
from hub.models import Enterprise, InsurancePolicy

agency_app = typer.Typer(help="Agencies that hold OAuth clients.", no_args_is_help=True)
client_app = typer.Typer(help="OAuth 2 client credentials.", no_args_is_help=True)
keys_app = typer.Typer(help="The hub's token-signing keys.", no_args_is_help=True)
external_app = typer.Typer(help="Clients of the external issuer.", no_args_is_help=True)
demo_app = typer.Typer()

T = TypeVar("T")
SECRET_WARNING = (
    "Store the secret now: the hub keeps only a hash and cannot show it again."
)
DEMO_FILE = Path("var/demo-clients.json")
DEMO_AGENCIES: dict[AgencyKind, str] = {
    AgencyKind.COMMERCIAL_BANK: "演示银行无锡分行 (demo)",
    AgencyKind.PBOC_BRANCH: "中国人民银行无锡市分行 (demo)",
    AgencyKind.BANKING_REGULATOR: "国家金融监督管理总局无锡监管分局 (demo)",
    AgencyKind.CREDIT_OFFICE: "无锡市信用办 (demo)",
    AgencyKind.INDUSTRY_REGULATOR: "无锡市工业和信息化局 (demo)",
    AgencyKind.INSURER: "演示保险无锡中心支公司 (demo)",
    AgencyKind.CITY_EPB: "无锡市生态环境局 (demo)",
    AgencyKind.COUNTY_EPB: "无锡市锡山生态环境局 (demo)",
    AgencyKind.ENTERPRISE: "演示企业 (demo)",
}
DEMO_DISTRICT = "320205"  # 锡山区


def out() -> Console:
    return Console(highlight=False, soft_wrap=True)


def err() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str) -> NoReturn:
    err().print(f"[red]error:[/red] {escape(message)}")
    raise typer.Exit(1)


def in_session(work: Callable[[AsyncSession, Settings], Awaitable[T]]) -> T:
    """Run `work` in one session and commit; refusals become one-line errors."""
    settings = Settings.from_env()

    async def run() -> T:
        engine = create_engine(settings)
        try:
            async with create_sessionmaker(engine)() as session:
                result = await work(session, settings)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except (RegistryError, ScopeError, KeyStoreError) as e:
        fail(str(e))
    except SQLAlchemyError as e:
        fail(
            f"database error ({type(e).__name__}); is it migrated? run `hub db upgrade`"
        )


@agency_app.command("add")
def agency_add(
    name: str = typer.Argument(..., help="Unique agency name."),
    kind: AgencyKind = typer.Option(..., case_sensitive=False, help="Agency kind."),
    district: str | None = typer.Option(None, help="District code (county bureaus)."),
    enterprise_code: str | None = typer.Option(
        None,
        "--enterprise-code",
        "--credit-code",
        help="The agency's own unified social credit code: required for "
        "ENTERPRISE agencies, and for INSURER agencies that submit lists.",
    ),
) -> None:
    """Register an agency."""

    async def work(session: AsyncSession, settings: Settings) -> int:
        agency = await create_agency(
            session,
            name=name,
            kind=kind,
            district_code=district,
            enterprise_code=enterprise_code,
            now=settings.clock(),
        )
        return agency.id

    agency_id = in_session(work)
    out().print(f"agency {escape(name.strip())} ({kind.value}) added, id {agency_id}")


@agency_app.command("list")
def agency_list() -> None:
    """List the agencies."""

    async def work(session: AsyncSession, _settings: Settings) -> Table:
        table = _table("id", "name", "kind", "district", "enterprise code")
        for a in await list_agencies(session):
            table.add_row(
                str(a.id),
                escape(a.name),
                a.kind.value,
                a.district_code or "",
                a.enterprise_code or "",
            )
        return table

    out().print(in_session(work))


@client_app.command("add")
def client_add(
    agency: str = typer.Option(..., help="Name of the agency."),
    scopes: str | None = typer.Option(
        None, help="Space-separated scopes; default: the preset of the agency kind."
    ),
    jwks_file: Path | None = typer.Option(
        None, help="Public JWKS for private_key_jwt; the client gets no secret."
    ),
) -> None:
    """Issue client credentials to an agency (the secret is shown once)."""
    try:
        chosen = parse_scopes(scopes) if scopes is not None else None
    except ScopeError as e:
        fail(str(e))
    jwks = _read_json(jwks_file) if jwks_file is not None else None

    async def work(
        session: AsyncSession, settings: Settings
    ) -> tuple[str, str | None, str]:
        owner = await get_agency(session, agency)
        made = await create_client(
            session, agency=owner, scopes=chosen, jwks=jwks, now=settings.clock()
        )
        return made.client.client_id, made.secret, made.client.scopes

    client_id, secret, granted = in_session(work)
    _print_credentials(client_id, secret, granted)


@client_app.command("list")
def client_list() -> None:
    """List clients (never their secrets or hashes)."""

    async def work(session: AsyncSession, _settings: Settings) -> Table:
        table = _table("client_id", "agency", "kind", "auth", "scopes", "status")
        for c, a in await list_clients(session):
            status = f"disabled {c.disabled_at:%Y-%m-%d}" if c.disabled_at else "active"
            auth = "private_key_jwt" if c.jwks is not None else "client_secret"
            table.add_row(
                c.client_id, escape(a.name), a.kind.value, auth, c.scopes, status
            )
        return table

    out().print(in_session(work))


@client_app.command("disable")
def client_disable(client_id: str = typer.Argument(...)) -> None:
    """Disable a client: no new tokens; its tokens are refused within the cache TTL."""

    async def work(session: AsyncSession, settings: Settings) -> float:
        await disable_client(session, client_id, now=settings.clock())
        return settings.auth_cache_seconds

    budget = in_session(work)
    out().print(
        f"client {client_id} disabled; its tokens are refused on every worker "
        f"within {budget:g} s"
    )


@client_app.command("rotate-secret")
def client_rotate_secret(client_id: str = typer.Argument(...)) -> None:
    """Replace a client's secret; the old one stops working at once."""

    async def work(session: AsyncSession, settings: Settings) -> str:
        return await rotate_secret(session, client_id, now=settings.clock())

    secret = in_session(work)
    out().print(f"client_id: {client_id}\nclient_secret: {secret}", markup=False)
    err().print(f"[yellow]{SECRET_WARNING}[/yellow] The old secret no longer works.")


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Add a signing key; drop old keys whose tokens have all expired."""
    settings = Settings.from_env()
    try:
        rotation = rotate_keys(
            settings.keys_dir,
            now=settings.clock(),
            token_ttl=settings.token_ttl_seconds,
            # A worker may sign with the old key until it re-lists the directory.
            leeway=LEEWAY_SECONDS + math.ceil(settings.auth_cache_seconds),
        )
    except (KeyStoreError, OSError) as e:
        fail(str(e))
    out().print(f"new signing key {rotation.added.kid}")
    for key in rotation.removed:
        out().print(f"removed key {key.kid} (all its tokens have expired)")


@keys_app.command("list")
def keys_list() -> None:
    """List the kept keys (kid and age only; private keys are never shown)."""
    settings = Settings.from_env()
    try:
        keys = load_keys(settings.keys_dir)
    except KeyStoreError as e:
        fail(str(e))
    table = _table("kid", "created (UTC)", "role")
    for key in reversed(keys):
        role = "signs" if key is keys[-1] else "verifies"
        table.add_row(key.kid, f"{key.created_at:%Y-%m-%d %H:%M:%S}", role)
    out().print(table)


@external_app.command("add")
def external_add(
    issuer: str = typer.Option(..., help="Issuer URL (the token's iss)."),
    subject: str = typer.Option(..., help="The token's sub (or client_id)."),
    agency: str = typer.Option(..., help="Name of the agency it speaks for."),
    scopes: str = typer.Option(..., help="Space-separated scopes granted."),
) -> None:
    """Map an external issuer's client to an agency and the scopes it may use."""
    try:
        granted = parse_scopes(scopes)
    except ScopeError as e:
        fail(str(e))

    async def work(session: AsyncSession, _settings: Settings) -> str:
        mapping = await add_external_client(
            session, issuer=issuer, subject=subject, agency_name=agency, scopes=granted
        )
        return mapping.scopes

    mapped = in_session(work)
    out().print(f"{escape(subject)} of {escape(issuer)} → {escape(agency)}: {mapped}")


@demo_app.command("demo-clients")
def demo_clients(
    enterprise_code: str | None = typer.Option(
        None,
        help="Credit code for the demo ENTERPRISE agency (default: the first "
        "enterprise in the database; skipped when there is none).",
    ),
    output: Path = typer.Option(DEMO_FILE, help="Where to write the credentials."),
) -> None:
    """Create one demo agency and client per agency kind (empty database only)."""

    async def work(session: AsyncSession, settings: Settings) -> list[dict[str, str]]:
        nonlocal enterprise_code
        if await list_agencies(session):
            return []
        if enterprise_code is None:
            enterprise_code = await session.scalar(
                select(Enterprise.code).order_by(Enterprise.id).limit(1)
            )
        # The demo insurer is the data's largest insurer, so its lists match.
        insurer_code = await session.scalar(
            select(InsurancePolicy.insurer_code)
            .group_by(InsurancePolicy.insurer_code)
            .order_by(func.count().desc(), InsurancePolicy.insurer_code)
            .limit(1)
        )
        made = []
        for kind, name in DEMO_AGENCIES.items():
            if kind is AgencyKind.ENTERPRISE and not enterprise_code:
                continue
            agency = await create_agency(
                session,
                name=name,
                kind=kind,
                district_code=DEMO_DISTRICT if kind is AgencyKind.COUNTY_EPB else None,
                enterprise_code=_demo_code(kind, enterprise_code, insurer_code),
                now=settings.clock(),
            )
            client = await create_client(session, agency=agency, now=settings.clock())
            assert client.secret is not None
            made.append(
                {
                    "agency": name,
                    "kind": kind.value,
                    "client_id": client.client.client_id,
                    "client_secret": client.secret,
                    "scopes": client.client.scopes,
                }
            )
        _write_private(
            output,
            {"token_endpoint": f"{settings.issuer}/oauth/token", "clients": made},
        )
        return made

    made = in_session(work)
    if not made:
        err().print(
            "agencies exist already; demo clients are made only on an empty database"
        )
        return
    table = _table("agency", "kind", "client_id", "scopes")
    for m in made:
        scopes = str(len(m["scopes"].split()))
        table.add_row(escape(m["agency"]), m["kind"], m["client_id"], scopes)
    out().print(table)
    if not enterprise_code:
        err().print("no ENTERPRISE demo client: no enterprise to bind it to")
    err().print(f"credentials written to {output} (mode 0600); {SECRET_WARNING}")


def _demo_code(
    kind: AgencyKind, enterprise_code: str | None, insurer_code: str | None
) -> str | None:
    if kind is AgencyKind.ENTERPRISE:
        return enterprise_code
    return insurer_code if kind is AgencyKind.INSURER else None


# Identifiers are never cut short: columns fold, and these keep their width.
_WIDTHS = {"client_id": 24, "kid": 43, "enterprise code": 18, "auth": 15}


def _table(*columns: str) -> Table:
    table = Table()
    for name in columns:
        table.add_column(name, overflow="fold", min_width=_WIDTHS.get(name))
    return table


def _print_credentials(client_id: str, secret: str | None, scopes: str) -> None:
    out().print(f"client_id: {client_id}", markup=False)
    if secret is None:
        out().print("auth: private_key_jwt (no secret)", markup=False)
    else:
        out().print(f"client_secret: {secret}", markup=False)
    out().print(f"scopes: {scopes}", markup=False)
    if secret is not None:
        err().print(f"[yellow]{SECRET_WARNING}[/yellow]")


def _read_json(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        fail(f"cannot read {path}: {e}")
    if not isinstance(data, dict):
        fail(f"{path} is not a JWK Set (a JSON object with a keys array)")
    return data


def _write_private(path: Path, data: object) -> None:
    """Write JSON readable by the owner only (0600), replacing any old file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, json.dumps(data, ensure_ascii=False, indent=2).encode() + b"\n")
    finally:
        os.close(fd)
