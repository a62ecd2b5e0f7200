"""Old phpBB links answer with a permanent redirect to the imported page.

Links into the old forum live on in search engines, bookmarks and other sites'
posts; each one is looked up in the import's mapping (community.models.ImportedRow)
in one query. An id that was never imported, or anything that is not an id, is a 404.
"""

from django.contrib.auth import get_user_model
from django.http import Http404, HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from forums.models import Forum, Post, Thread

from ..models import ImportedRow

# Longer numbers would overflow the database's integer (see config.converters.IdConverter).
MAX_DIGITS = 18


def _imported(request, parameter: str, kind: str):
    """The ids (a subquery) of what phpBB's `?parameter=N` became here; 404 for bad input."""
    value = request.GET.get(parameter, "")
    if not (value.isascii() and value.isdigit()) or len(value) > MAX_DIGITS:
        raise Http404
    return ImportedRow.objects.filter(source="phpbb", kind=kind, old_id=int(value)).values("new_id")


@require_GET
def viewforum(request):
    """`viewforum.php?f=N`: the forum. Anyone."""
    forum = get_object_or_404(Forum.objects.only("slug"), pk__in=_imported(request, "f", ImportedRow.Kind.FORUM))
    return HttpResponsePermanentRedirect(forum.get_absolute_url())


@require_GET
def viewtopic(request):
    """`viewtopic.php?p=N` (a post, in its thread) or `?t=N` (a thread). Anyone."""
    if "p" in request.GET:
        post = get_object_or_404(
            Post.objects.select_related("thread").only("number", "parent", "thread__slug"),
            pk__in=_imported(request, "p", ImportedRow.Kind.POST),
        )
        return HttpResponsePermanentRedirect(post.get_absolute_url())
    thread = get_object_or_404(Thread.objects.only("slug"), pk__in=_imported(request, "t", ImportedRow.Kind.THREAD))
    return HttpResponsePermanentRedirect(thread.get_absolute_url())


@require_GET
def memberlist(request):
    """`memberlist.php?mode=viewprofile&u=N`: the member's profile. Anyone."""
    if request.GET.get("mode") != "viewprofile":
        raise Http404
    member = get_object_or_404(
        get_user_model().objects.only("username"), pk__in=_imported(request, "u", ImportedRow.Kind.MEMBER)
    )
    return HttpResponsePermanentRedirect(member.get_absolute_url())
