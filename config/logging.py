"""One JSON object per log record, for log shippers in production.

A traceback spread over thirty lines is thirty unrelated events to journald, Loki or
any line-based collector; one line per record keeps an error and its traceback together
and makes the fields searchable. Standard library only.
"""

import json
import logging
from datetime import UTC, datetime

# Attributes every LogRecord has; anything else was passed in `extra=` and is kept.
_RECORD_ATTRIBUTES = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__
) | {"message", "asctime", "taskName"}


class JSONFormatter(logging.Formatter):
    """Format a record as a single line of JSON: time, level, logger, message, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        # django.request and django.security pass the request itself; its method and
        # path say which page failed without dumping headers or cookies into the log.
        request = getattr(record, "request", None)
        if request is not None and hasattr(request, "get_full_path"):
            entry["method"] = request.method
            entry["path"] = request.get_full_path()
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRIBUTES and key not in entry and key != "request":
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)
