"""Structured JSON logs with tokens, secrets, PINs and codes masked before anything is written."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sys
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

MASK = "[redacted]"
SECRET_KEYS = re.compile(r"(token|secret|pin|password|passwd|authorization|code|api_key|apikey)$", re.IGNORECASE)
SECRET_PATTERNS = (
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(r"(?i)((?:access_token|token|secret|pin|code|api_key)=)[^&\s\"']+"),
    re.compile(r"(?i)(\"(?:[a-z_]*(?:token|secret|pin|code|password)|authorization)\"\s*:\s*\")[^\"]*"),
)
log_context: ContextVar[Mapping[str, Any]] = ContextVar("numport_log_context", default=MappingProxyType({}))


def redact_text(text: str) -> str:
    for pattern in SECRET_PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    return text


def redact(value: Any, key: str = "") -> Any:
    """Mask values whose key names a secret, and secret-looking fragments inside strings."""
    if key and SECRET_KEYS.search(key) and value not in (None, "", False):
        return MASK
    if isinstance(value, Mapping):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
            **log_context.get(),
            **{k: v for k, v in vars(record).items() if k not in _RESERVED},
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(redact(entry), default=str)


@contextlib.contextmanager
def bound(**fields: Any) -> Iterator[None]:
    """Every line logged inside carries these fields (a migration's correlation id, the record being handled)."""
    token = log_context.set({**log_context.get(), **fields})
    try:
        yield
    finally:
        log_context.reset(token)


class StartupNoise(logging.Filter):
    """aiokafka logs at error level while the group coordinator is still being elected, as it is on every start;
    it retries by itself, so the line is demoted to info instead of paging anyone."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("aiokafka") and record.levelno >= logging.ERROR \
                and "CoordinatorNotAvailable" in record.getMessage():
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


def configure(service: str, level: str = "INFO") -> None:
    """JSON lines on stdout (12-factor: the platform collects them)."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(service))
    handler.addFilter(StartupNoise())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiokafka", "httpx", "httpcore", "uvicorn.access", "faststream"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
