"""Django's SQLite backend with its placeholders converted once per query text (base.py)."""
