"""Admin of the prompt library, prompt sets and sessions. Submissions (sealed or not), cards
and invitations are deliberately not registered, and no delete confirmation counts them."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from config.admin import QuietDeletionAdmin, unlisted
from surveys.retros import services as retros
from surveys.retros.models import (
    RetroCard,
    RetroPrompt,
    RetroPromptSet,
    RetroPromptSetItem,
    RetroResponse,
    RetroSession,
    SealedRetroResponse,
)

unlisted(RetroResponse, RetroCard, SealedRetroResponse)


@admin.register(RetroPrompt)
class RetroPromptAdmin(QuietDeletionAdmin):
    list_display = ("text", "organisation", "suggested_effect", "active")
    list_filter = ("active", "organisation")
    search_fields = ("text",)


class RetroPromptSetItemInline(admin.TabularInline):
    model = RetroPromptSetItem
    extra = 0
    autocomplete_fields = ("prompt",)


@admin.register(RetroPromptSet)
class RetroPromptSetAdmin(QuietDeletionAdmin):
    list_display = ("name", "organisation")
    list_filter = ("organisation",)
    inlines = (RetroPromptSetItemInline,)


@admin.register(RetroSession)
class RetroSessionAdmin(QuietDeletionAdmin):
    """Sessions are started from the team's retro page (which invites the team); here they
    can be looked at and closed."""

    list_display = ("team", "label", "sprint_start", "status", "k", "closes_at")
    list_filter = ("status", "team")
    readonly_fields = [f.name for f in RetroSession._meta.fields]
    actions = ("close_now",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Close the selected retro sessions")
    def close_now(self, request: HttpRequest, queryset: QuerySet[RetroSession]) -> None:
        for session in queryset:
            retros.retro_session_close(session_id=session.pk)
        messages.success(request, f"Closed {queryset.count()} session(s).")
