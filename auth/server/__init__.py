"""The OAuth 2 authorization server: authlib's classes, fed by the hub.

authlib implements the protocol: the client credentials grant (RFC 6749
§4.4), client authentication (client_secret_basic and client_secret_post,
RFC 6749 §2.3.1; private_key_jwt, RFC 7523 §2.2), revocation (RFC 7009) and
introspection (RFC 7662). Its classes are synchronous, so they never touch
the database: adapter.py (the Starlette side) first loads what a request
needs (the client rows, whether a token or assertion was already seen) into
an `Exchange`, runs authlib in a worker thread, then persists what authlib
decided (spent assertion jtis, revoked tokens) and commits once.
`query_client` only reads the exchange.

Modules: exchange (per-request data), models (client, token, request),
assertion (private_key_jwt), endpoints (revoke, introspect),
authorization_server (grant and hooks), metadata (RFC 8414), adapter.
"""
