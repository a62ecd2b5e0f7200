from django.contrib import admin

from .models import Community, Forum, Post, Section, Thread


@admin.register(Community)
class CommunityAdmin(admin.ModelAdmin):
    list_display = ["name", "tagline"]

    def has_add_permission(self, request):
        # One community per site: the seeds create it, staff edit it.
        return not Community.objects.exists()


@admin.register(Section)
class SectionAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "position"]
    list_editable = ["position"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Forum)
class ForumAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "section", "is_featured", "position", "thread_count", "post_count"]
    list_filter = ["kind", "section", "is_featured"]
    list_editable = ["is_featured", "position"]
    list_select_related = ["section"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["hosts"]
    readonly_fields = ["thread_count", "post_count", "last_post", "last_post_at"]


@admin.register(Thread)
class ThreadAdmin(admin.ModelAdmin):
    list_display = ["title", "forum", "author", "reply_count", "is_pinned", "is_locked", "last_activity_at"]
    list_filter = ["is_pinned", "is_locked", "forum"]
    list_select_related = ["forum", "author"]
    search_fields = ["title"]
    raw_id_fields = ["author", "last_poster"]
    readonly_fields = ["reply_count", "last_activity_at", "last_poster", "created_at"]


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ["subject", "thread", "number", "author", "created_at"]
    list_select_related = ["thread", "author"]
    search_fields = ["subject"]
    raw_id_fields = ["thread", "author", "parent"]
    # Post HTML comes only from forums.rendering via the services, so the admin shows
    # posts but does not edit their text.
    readonly_fields = ["body", "body_html", "tree_path", "depth", "number", "created_at"]
