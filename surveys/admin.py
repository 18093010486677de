"""Admin configuration. Responses, answers, retro cards and invitations are deliberately
not registered: no admin screen can put an answer or a card next to a person."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from surveys import services
from surveys.models import Membership, Organisation, Pulse, PulseRun, Question, Team
from surveys.retros import services as retros
from surveys.retros.models import RetroPrompt, RetroPromptSet, RetroPromptSetItem, RetroSession


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "parent", "organisation")
    list_filter = ("organisation",)
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}
    inlines = (MembershipInline,)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "team", "role", "start", "end")
    list_filter = ("role", "team")
    autocomplete_fields = ("user", "team")


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ("key", "construct", "kind", "reverse_scored", "is_core", "active")
    list_filter = ("construct", "kind", "is_core", "active")
    search_fields = ("key", "text")


@admin.register(Pulse)
class PulseAdmin(admin.ModelAdmin):
    list_display = ("team", "cadence", "start_date", "answer_window_days", "k", "active")
    list_filter = ("cadence", "active")


@admin.register(PulseRun)
class PulseRunAdmin(admin.ModelAdmin):
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
class RetroPromptAdmin(admin.ModelAdmin):
    list_display = ("text", "organisation", "suggested_effect", "active")
    list_filter = ("active", "organisation")
    search_fields = ("text",)


class RetroPromptSetItemInline(admin.TabularInline):
    model = RetroPromptSetItem
    extra = 0
    autocomplete_fields = ("prompt",)


@admin.register(RetroPromptSet)
class RetroPromptSetAdmin(admin.ModelAdmin):
    list_display = ("name", "organisation")
    list_filter = ("organisation",)
    inlines = (RetroPromptSetItemInline,)


@admin.register(RetroSession)
class RetroSessionAdmin(admin.ModelAdmin):
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
