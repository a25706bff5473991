"""Agencies and their credentials: the one place that creates, rotates, disables.

`hub agency|client|external ...` and the test fixtures call these with a
session they own; the functions flush and never commit. Refusals raise
RegistryError (or ScopeError) with a one-line message for the operator.
"""

import secrets
import string
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.jwks import KeySetError, pin_public_keys
from auth.scopes import PRESETS, Scope, ScopeError, check_allowed, format_scopes
from auth.secrets import generate_secret, hash_secret
from hub.credit_code import CreditCodeError, parse_credit_code
from hub.enums import AgencyKind
from hub.models import Agency, District, ExternalClient, OAuthClient

CITY_CODE = "320200"
# Letters and digits only: a client_id never starts with "-" (a CLI option)
# and needs no escaping in HTTP Basic (RFC 6749 §2.3.1).
CLIENT_ID_ALPHABET = string.ascii_letters + string.digits
CLIENT_ID_LENGTH = 24


CODED_KINDS = frozenset({AgencyKind.ENTERPRISE, AgencyKind.INSURER})


class RegistryError(ValueError):
    """A refused agency or client operation; the message says why."""


@dataclass(frozen=True, slots=True)
class NewClient:
    """A created client; `secret` is shown once and then only its hash exists."""

    client: OAuthClient
    secret: str | None


async def create_agency(
    session: AsyncSession,
    *,
    name: str,
    kind: AgencyKind,
    district_code: str | None = None,
    enterprise_code: str | None = None,
    now: datetime,
) -> Agency:
    """Register an agency; county bureaus need a current district, enterprises a code."""
    name = name.strip()
    if not name:
        raise RegistryError("the agency name is empty")
    if await find_agency(session, name) is not None:
        raise RegistryError(f"agency {name!r} already exists")
    if kind is AgencyKind.COUNTY_EPB and not district_code:
        raise RegistryError("a COUNTY_EPB agency needs --district (e.g. 320205)")
    if district_code:
        await _check_district(session, district_code, kind)
    if kind is AgencyKind.ENTERPRISE and not enterprise_code:
        raise RegistryError("an ENTERPRISE agency needs --enterprise-code")
    if enterprise_code:
        # Its own credit code: an enterprise reads its records, an insurer
        # submits the policies it underwrote.
        if kind not in CODED_KINDS:
            raise RegistryError(
                "only ENTERPRISE and INSURER agencies carry a credit code"
            )
        try:
            enterprise_code = parse_credit_code(enterprise_code)
        except CreditCodeError as e:
            raise RegistryError(f"invalid credit code: {e}") from None
    agency = Agency(
        name=name,
        kind=kind,
        district_code=district_code,
        enterprise_code=enterprise_code,
        created_at=now,
    )
    session.add(agency)
    await session.flush()
    return agency


async def create_client(
    session: AsyncSession,
    *,
    agency: Agency,
    scopes: frozenset[Scope] | None = None,
    jwks: dict[str, object] | None = None,
    now: datetime,
) -> NewClient:
    """Issue client credentials to an agency (RFC 6749 §2.2-2.3).

    scopes: None gives the preset of the agency's kind; any scope the kind
        may not hold is refused (auth.scopes.check_allowed).
    jwks: public keys for private_key_jwt (RFC 7523 §2.2); such a client has
        no secret at all.
    """
    chosen = PRESETS[agency.kind] if scopes is None else scopes
    if not chosen:
        raise ScopeError("a client needs at least one scope")
    check_allowed(agency.kind, chosen)
    secret = None
    if jwks is not None:
        try:
            pin_public_keys(jwks)
        except KeySetError as e:
            raise RegistryError(f"unusable JWKS: {e}") from None
    else:
        secret = generate_secret()
    client = OAuthClient(
        client_id=new_client_id(),
        agency_id=agency.id,
        secret_hash=hash_secret(secret) if secret else None,
        jwks=jwks,
        scopes=format_scopes(chosen),
        created_at=now,
    )
    session.add(client)
    await session.flush()
    return NewClient(client, secret)


def new_client_id() -> str:
    """A random client identifier (RFC 6749 §2.2), about 143 bits."""
    return "".join(secrets.choice(CLIENT_ID_ALPHABET) for _ in range(CLIENT_ID_LENGTH))


async def rotate_secret(session: AsyncSession, client_id: str, *, now: datetime) -> str:
    """Replace a client's secret; the old one stops working at once."""
    client = await get_client(session, client_id)
    if client.jwks is not None:
        raise RegistryError(
            f"client {client_id} uses private_key_jwt and has no secret"
        )
    secret = generate_secret()
    client.secret_hash = hash_secret(secret)
    client.secret_rotated_at = now
    await session.flush()
    return secret


async def disable_client(
    session: AsyncSession, client_id: str, *, now: datetime
) -> OAuthClient:
    """Stop a client: no new tokens, and its tokens are refused (after the cache TTL)."""
    client = await get_client(session, client_id)
    if client.disabled_at is None:
        client.disabled_at = now
        await session.flush()
    return client


async def add_external_client(
    session: AsyncSession,
    *,
    issuer: str,
    subject: str,
    agency_name: str,
    scopes: frozenset[Scope],
) -> ExternalClient:
    """Map (issuer, subject) of an external token to an agency and its scopes."""
    agency = await get_agency(session, agency_name)
    if not scopes:
        raise ScopeError("a mapping needs at least one scope")
    check_allowed(agency.kind, scopes)
    taken = await session.scalar(
        select(ExternalClient.id).where(
            ExternalClient.issuer == issuer, ExternalClient.subject == subject
        )
    )
    if taken is not None:
        raise RegistryError(f"{subject!r} of {issuer} is already mapped")
    mapping = ExternalClient(
        issuer=issuer,
        subject=subject,
        agency_id=agency.id,
        scopes=format_scopes(scopes),
    )
    session.add(mapping)
    await session.flush()
    return mapping


async def find_agency(session: AsyncSession, name: str) -> Agency | None:
    return await session.scalar(select(Agency).where(Agency.name == name.strip()))


async def get_agency(session: AsyncSession, name: str) -> Agency:
    agency = await find_agency(session, name)
    if agency is None:
        raise RegistryError(f"no agency named {name!r} (see `hub agency list`)")
    return agency


async def get_client(session: AsyncSession, client_id: str) -> OAuthClient:
    client = await session.scalar(
        select(OAuthClient).where(OAuthClient.client_id == client_id)
    )
    if client is None:
        raise RegistryError(f"no client {client_id!r} (see `hub client list`)")
    return client


async def list_agencies(session: AsyncSession) -> list[Agency]:
    return list(await session.scalars(select(Agency).order_by(Agency.name)))


async def list_clients(session: AsyncSession) -> list[tuple[OAuthClient, Agency]]:
    rows = await session.execute(
        select(OAuthClient, Agency)
        .join(Agency, Agency.id == OAuthClient.agency_id)
        .order_by(Agency.name, OAuthClient.created_at)
    )
    return [(client, agency) for client, agency in rows]


async def _check_district(session: AsyncSession, code: str, kind: AgencyKind) -> None:
    district = await session.get(District, code)
    if district is None:
        raise RegistryError(f"unknown district {code!r}")
    if district.successor_code is not None:
        raise RegistryError(
            f"district {code} ({district.name}) was abolished; "
            f"use {district.successor_code}"
        )
    if kind is AgencyKind.COUNTY_EPB and code == CITY_CODE:
        raise RegistryError(f"{code} is the whole city: use --kind CITY_EPB")
