"""Structured JSON logs, one object per line, carrying the request id.

Tokens and secrets never reach a line: `Redact` masks bearer tokens, JWTs and
`client_secret=`/`password=` values in the message, its arguments and any
extra field, whichever logger (the hub's, uvicorn's) wrote it.
"""

import logging
import re
import sys
from typing import Any

import orjson

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
REDACTED = "[REDACTED]"
_SECRETS = re.compile(
    # Authorization: Bearer/Basic <credentials>
    r"\b(Bearer|bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}"
    # a JWT/JWS: base64url parts, the first a JSON header ("eyJ")
    r"|eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"
    # form or query fields carrying a secret
    r"|\b(?i:(client_secret|password|secret|access_token|refresh_token|assertion))="
    r"[^&\s\"',;]+"
)
_SECRET_KEYS = re.compile(r"(?i)authorization|secret|password|token|assertion")


def redact(text: str) -> str:
    """`text` with every credential-looking part replaced by [REDACTED]."""
    return _SECRETS.sub(_mask, text)


def _mask(match: re.Match[str]) -> str:
    if match[1]:  # keep the scheme so the line still says what was sent
        return f"{match[1]} {REDACTED}"
    if match[2]:
        return f"{match[2]}={REDACTED}"
    return REDACTED


def _clean(key: str, value: Any) -> Any:
    if isinstance(value, str):
        return REDACTED if _SECRET_KEYS.search(key) else redact(value)
    if isinstance(value, dict):
        return {k: _clean(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(key, v) for v in value]
    return value


class Redact(logging.Filter):
    """Masks credentials in a record before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        for key, value in list(vars(record).items()):
            if key not in _STANDARD:
                setattr(record, key, _clean(key, value))
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return orjson.dumps(entry, default=str).decode()


def configure_logging(level: str) -> None:
    """JSON lines on stderr for the hub's loggers and uvicorn's, redacted."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(Redact())
    for name in ("hub", "uvicorn"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False
    # uvicorn.error and uvicorn.access propagate to "uvicorn" without handlers
    for name in ("uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
