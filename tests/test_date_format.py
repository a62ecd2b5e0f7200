"""One way of writing dates and times on every page and in every message:
"Thu Nov 26, 2026, 4:22 AM" (config/formats/en/formats.py)."""

import re
from datetime import UTC, datetime
from pathlib import Path

from django.template import Context, Template
from django.utils import translation
from django.utils.formats import date_format

ROOT = Path(__file__).resolve().parents[1]
MOMENT = datetime(2026, 11, 26, 4, 22, tzinfo=UTC)
# What a template or date_format() may name: the site's formats, or ISO 8601 for
# machine-readable datetime attributes.
NAMED = {"DATETIME_FORMAT", "DATE_FORMAT", "TIME_FORMAT", "c"}
APPS = ["config", "accounts", "forums", "conversations", "moderation", "community"]


def test_site_writes_a_moment_and_a_day_one_way():
    with translation.override("en-us"):
        assert date_format(MOMENT, "DATETIME_FORMAT") == "Thu Nov 26, 2026, 4:22 AM"
        assert date_format(MOMENT, "DATE_FORMAT") == "Thu Nov 26, 2026"
        assert Template("{{ moment|date }}").render(Context({"moment": MOMENT})) == "Thu Nov 26, 2026"


def test_templates_and_code_name_the_site_formats_instead_of_spelling_their_own():
    spelled = []
    for template in sorted((ROOT / "templates").rglob("*")):
        if template.is_file():
            for fmt in re.findall(r"\|date:['\"]([^'\"]*)['\"]", template.read_text()):
                if fmt not in NAMED:
                    spelled.append(f"{template.relative_to(ROOT)}: |date:{fmt!r}")
    for app in APPS:
        for module in sorted((ROOT / app).rglob("*.py")):
            for fmt in re.findall(r"(?:date_format\(.*?|LocalDates\()['\"]([^'\"]*)['\"]", module.read_text()):
                if fmt not in NAMED:
                    spelled.append(f"{module.relative_to(ROOT)}: {fmt!r}")
    assert spelled == []
