from django.apps import AppConfig


class CommunityConfig(AppConfig):
    """Flows that cross the other apps, at the top of the layers (see pyproject.toml's
    import contracts): seeding a community, exporting and importing a whole one."""

    name = "community"
    verbose_name = "Community"
