"""Admin configuration. Responses, answers, retro cards and invitations are deliberately
not registered: no admin screen can put an answer or a card next to a person. Nor does a
delete confirmation list or count them (`QuietDeletionAdmin`)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.text import capfirst

from analytics.models import Commit, PullRequest
from surveys import services
from surveys.models import (
    Answer,
    Membership,
    Organisation,
    Pulse,
    PulseRun,
    Question,
    Response,
    Team,
)
from surveys.retros import services as retros
from surveys.retros.models import (
    RetroCard,
    RetroPrompt,
    RetroPromptSet,
    RetroPromptSetItem,
    RetroResponse,
    RetroSession,
)

# Never listed nor counted on a delete confirmation: how many responses a run has (open,
# or under k) and which commits are whose are exactly what must not show.
UNLISTED: tuple[type[models.Model], ...] = (
    Response,
    Answer,
    RetroResponse,
    RetroCard,
    Commit,
    PullRequest,
)


def _unlisted(entry: object) -> bool:
    text = str(entry)
    return any(text.startswith(f"{capfirst(m._meta.verbose_name)}: ") for m in UNLISTED)


def _without_unlisted(nested: list[Any]) -> list[Any]:
    """Django's nested list of what a deletion takes with it (each entry, then the list of
    what it takes), without the unlisted records and what hangs off them."""
    kept: list[Any] = []
    skipping = False
    for entry in nested:
        if isinstance(entry, list):
            if not skipping:
                kept.append(_without_unlisted(entry))
            skipping = False
        else:
            skipping = _unlisted(entry)
            if not skipping:
                kept.append(entry)
    return kept


class QuietDeletionAdmin(admin.ModelAdmin):
    """A ModelAdmin whose delete confirmation (page and bulk action) neither lists nor
    counts the anonymous records or the commits and pull requests a deletion would take
    with it or is blocked by; it names their kind only, with no number."""

    def get_deleted_objects(
        self, objs: Any, request: HttpRequest
    ) -> tuple[list[Any], dict[Any, int], set[Any], list[Any]]:
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        hidden = {str(m._meta.verbose_name_plural) for m in UNLISTED}
        present = [name for name in counts if str(name) in hidden]
        counts = {name: count for name, count in counts.items() if str(name) not in hidden}
        deleted = _without_unlisted(deleted) + [
            f"{capfirst(name)} (not listed)" for name in present
        ]
        blocked = [entry for entry in protected if _unlisted(entry)]
        protected = [entry for entry in protected if not _unlisted(entry)]
        if blocked:
            kinds = sorted({str(entry).split(":")[0] for entry in blocked})
            protected.append(f"{', '.join(kinds)} records (not listed)")
        return deleted, counts, perms_needed, protected


@admin.register(Organisation)
class OrganisationAdmin(QuietDeletionAdmin):
    list_display = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Team)
class TeamAdmin(QuietDeletionAdmin):
    list_display = ("name", "parent", "organisation")
    list_filter = ("organisation",)
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}
    inlines = (MembershipInline,)


@admin.register(Membership)
class MembershipAdmin(QuietDeletionAdmin):
    list_display = ("user", "team", "role", "start", "end")
    list_filter = ("role", "team")
    autocomplete_fields = ("user", "team")


@admin.register(Question)
class QuestionAdmin(QuietDeletionAdmin):
    list_display = ("key", "construct", "kind", "reverse_scored", "is_core", "active")
    list_filter = ("construct", "kind", "is_core", "active")
    search_fields = ("key", "text")


@admin.register(Pulse)
class PulseAdmin(QuietDeletionAdmin):
    list_display = ("team", "cadence", "start_date", "answer_window_days", "k", "active")
    list_filter = ("cadence", "active")


@admin.register(PulseRun)
class PulseRunAdmin(QuietDeletionAdmin):
    list_display = ("team", "period_start", "status", "k", "opens_at", "closes_at")
    list_filter = ("status", "team")
    readonly_fields = [f.name for f in PulseRun._meta.fields]
    actions = ("open_now", "close_now")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Open the selected runs now and send invitations")
    def open_now(self, request: HttpRequest, queryset: QuerySet[PulseRun]) -> None:
        now = timezone.now()
        opened = 0
        for run in queryset:
            # An invitation to a pulse that cannot be answered yet (or any more) only confuses.
            if not run.opens_at <= now < run.closes_at:
                messages.warning(request, f"{run} is outside its answer window; not opened.")
                continue
            services.pulse_run_open(run_id=run.pk)
            opened += 1
        messages.success(request, f"Opened {opened} run(s).")

    @admin.action(description="Close the selected runs")
    def close_now(self, request: HttpRequest, queryset: QuerySet[PulseRun]) -> None:
        for run in queryset:
            services.pulse_run_close(run_id=run.pk)
        messages.success(request, f"Closed {queryset.count()} run(s).")


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
