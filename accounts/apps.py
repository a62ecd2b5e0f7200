from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Members"

    def ready(self):
        from config import page_cache

        from .models import User

        # A member's name, badges and post count show wherever they posted, so a
        # visitor's cached page depends on every member it loaded (config/page_cache.py).
        page_cache.shown_rows(User, page_cache.MEMBER)
