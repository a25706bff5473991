"""Who is asking: the caller every request resolves to, token or not."""

from dataclasses import dataclass, field

from auth.scopes import PUBLIC_SCOPES, Scope
from hub.enums import AgencyKind

INTERNAL_KINDS = frozenset({AgencyKind.CITY_EPB, AgencyKind.COUNTY_EPB})


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated client (or the anonymous public) and what it may see.

    scopes: what fields it may read (auth.scopes).
    published_only: sees only published grades and penalties inside their
        publication window (everyone but the EPB itself).
    districts: division codes a county bureau is confined to; None = the city.
    enterprise_code: an ENTERPRISE caller sees only its own records.
    org_code: the agency's own credit code (an insurer writes only its own
        policies).
    persisted_only: the client may run only its registered documents
        (hub/persisted.py), never a raw query.
    """

    scopes: frozenset[Scope] = PUBLIC_SCOPES
    published_only: bool = True
    districts: frozenset[str] | None = None
    enterprise_code: str | None = None
    org_code: str | None = None
    client_id: str | None = None
    agency_id: int | None = None
    agency_name: str | None = None
    kind: AgencyKind | None = None
    token_id: str | None = field(default=None, compare=False)
    persisted_only: bool = False

    @property
    def anonymous(self) -> bool:
        return self.client_id is None

    @classmethod
    def public(cls) -> "Caller":
        return cls()

    @classmethod
    def staff(cls) -> "Caller":
        """The bureau's own staff at the command line: the whole city, every scope."""
        return cls(
            scopes=frozenset(Scope), published_only=False, kind=AgencyKind.CITY_EPB
        )

    @classmethod
    def for_agency(
        cls,
        *,
        kind: AgencyKind,
        scopes: frozenset[Scope],
        client_id: str,
        agency_id: int,
        agency_name: str,
        district_code: str | None,
        enterprise_code: str | None,
        token_id: str | None = None,
        persisted_only: bool = False,
    ) -> "Caller":
        """The row rules follow from the agency: kind, district, own enterprise."""
        return cls(
            scopes=scopes,
            published_only=kind not in INTERNAL_KINDS,
            districts=frozenset({district_code})
            if kind is AgencyKind.COUNTY_EPB and district_code
            else None,
            enterprise_code=enterprise_code if kind is AgencyKind.ENTERPRISE else None,
            org_code=enterprise_code,
            client_id=client_id,
            agency_id=agency_id,
            agency_name=agency_name,
            kind=kind,
            token_id=token_id,
            persisted_only=persisted_only,
        )
