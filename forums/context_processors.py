from .models import Community, Forum, Section


def site_chrome(request):
    """The header every page shows: the site's words and the navigation, from the seeds."""
    return {
        # Before the seeds are loaded the site still needs a name.
        "community": Community.objects.first() or Community(name="Grassroots"),
        "nav_forums": Forum.objects.for_navigation(),
        "nav_sections": Section.objects.for_navigation(),
    }
