"""Authorization server metadata (RFC 8414 §2), validated at start-up."""

from authlib.oauth2.rfc8414 import AuthorizationServerMetadata

from auth.jwks import ALGORITHMS
from auth.scopes import Scope
from auth.server.models import AUTH_METHODS
from hub.config import Settings


def server_metadata(settings: Settings) -> dict[str, object]:
    """RFC 8414 §2 metadata, checked with authlib's validator at start-up."""
    issuer = settings.issuer
    algorithms = list(ALGORITHMS)
    document: dict[str, object] = {
        "issuer": issuer,
        "token_endpoint": f"{issuer}/oauth/token",
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "revocation_endpoint": f"{issuer}/oauth/revoke",
        "introspection_endpoint": f"{issuer}/oauth/introspect",
        "grant_types_supported": ["client_credentials"],
        "response_types_supported": [],
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "token_endpoint_auth_signing_alg_values_supported": algorithms,
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        "revocation_endpoint_auth_signing_alg_values_supported": algorithms,
        "introspection_endpoint_auth_methods_supported": AUTH_METHODS,
        "introspection_endpoint_auth_signing_alg_values_supported": algorithms,
        "scopes_supported": sorted(s.value for s in Scope),
    }
    metadata = AuthorizationServerMetadata(document)
    for key in metadata.REGISTRY_KEYS:
        # No authorization endpoint, so no response types: RFC 8414 still lists
        # the member as REQUIRED and authlib wants it non-empty; we publish [].
        if key != "response_types_supported":
            getattr(metadata, f"validate_{key}")()
    return document
