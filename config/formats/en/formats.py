"""The site's one way of writing a moment, "Thu Nov 26, 2026, 4:22 AM", and a day,
"Thu Nov 26, 2026", for English (every en-* language code). Django's own English
formats ("Nov. 26, 2026, 4:22 a.m.") would otherwise show wherever a template or
message says DATETIME_FORMAT or DATE_FORMAT; pages and messages name these two
formats and never spell out one of their own (tests/test_date_format.py)."""

DATETIME_FORMAT = "D M j, Y, g:i A"
DATE_FORMAT = "D M j, Y"
TIME_FORMAT = "g:i A"
