"""Importing a phpBB 3.x forum: its database (source), its post text (text), the import
steps (importer, posts) and its old links (views)."""
