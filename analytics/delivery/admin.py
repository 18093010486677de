"""Admin for Git import. Commits and pull requests are not registered: no screen lists a
person's commits, not even a contributor's delete confirmation (QuietDeletionAdmin)."""

from __future__ import annotations

from django.contrib import admin

from analytics.delivery.models import (
    AiAttributionRule,
    Commit,
    Contributor,
    ImportRun,
    PullRequest,
    Repository,
)
from config.admin import QuietDeletionAdmin, unlisted

unlisted(Commit, PullRequest)


@admin.register(Repository)
class RepositoryAdmin(QuietDeletionAdmin):
    list_display = ("name", "team", "source", "ref", "cursor_sha")
    list_filter = ("organisation",)
    readonly_fields = ("cursor_sha",)


@admin.register(Contributor)
class ContributorAdmin(QuietDeletionAdmin):
    """Map Git identities to people; the 'unmapped' filter lists what still needs doing."""

    list_display = ("name", "email", "user", "is_bot")
    list_filter = (("user", admin.EmptyFieldListFilter), "is_bot", "organisation")
    search_fields = ("name", "email")
    autocomplete_fields = ("user",)


@admin.register(ImportRun)
class ImportRunAdmin(QuietDeletionAdmin):
    list_display = (
        "repository",
        "status",
        "started_at",
        "commits_read",
        "commits_added",
        "commits_dropped",
    )
    list_filter = ("status",)
    readonly_fields = [f.name for f in ImportRun._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(AiAttributionRule)
class AiAttributionRuleAdmin(QuietDeletionAdmin):
    list_display = ("pattern", "kind", "tool", "organisation", "active")
    list_filter = ("kind", "active")
