"""Admin of the question bank, pulses and runs. Responses, answers, sealed responses and
invitations are deliberately not registered: no admin screen can put an answer next to a
person, and no delete confirmation counts them."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from config.admin import QuietDeletionAdmin, unlisted
from surveys.pulses import services
from surveys.pulses.models import Answer, Pulse, PulseRun, Question, Response, SealedResponse

unlisted(Response, Answer, SealedResponse)


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
