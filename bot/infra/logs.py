"""Logging set-up with a filter that scrubs secrets from every record."""

from __future__ import annotations

import logging
import re

SECRET_PATTERN = re.compile(
    r"(ot_(?:pat|clm|cat|ptk)_[A-Za-z0-9_\-]+|whsec_[A-Za-z0-9_\-]+|xox[abposr]-[A-Za-z0-9\-]+|xapp-[A-Za-z0-9\-]+)"
)

# The password in a Redis URL: `redis://:pw@host`, `rediss://user:pw@host` -> `redis://:********@host`.
URL_PASSWORD_PATTERN = re.compile(r"(\b(?:rediss?|unix)://[^:/@\s]*:)[^@\s]+@")


def redact(text: str) -> str:
    """Replace anything shaped like a token with its prefix and a mask, and the password of a Redis URL."""
    text = URL_PASSWORD_PATTERN.sub(r"\1********@", text)
    return SECRET_PATTERN.sub(lambda m: m.group(0)[:7] + "********", text)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every URL at INFO; keep it quiet unless debugging.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, root.level))
