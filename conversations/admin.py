from django.contrib import admin

from config.admin import ReadOnlyInline

from .models import Conversation, Message, Participant


class ParticipantInline(ReadOnlyInline):
    model = Participant
    fields = ["member", "joined_at", "last_read_at", "last_sent_at", "unread_count"]
    readonly_fields = fields


class MessageInline(ReadOnlyInline):
    model = Message
    fields = ["number", "author", "created_at", "body"]
    readonly_fields = fields
    ordering = ["number"]


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    """Read only: messages are written through conversations.services, which keep the
    unread counts exact; staff look here when a member reports abuse."""

    list_display = ["subject", "started_by", "created_at", "last_message_at", "message_count"]
    list_select_related = ["started_by"]
    search_fields = ["subject", "participants__member__username"]
    date_hierarchy = "last_message_at"
    readonly_fields = ["subject", "started_by", "created_at", "last_message_at", "message_count"]
    inlines = [ParticipantInline, MessageInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
