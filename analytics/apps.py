from __future__ import annotations

from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = "Analytics"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # How analytics learns that a run closed: surveys announces it, the pipeline
        # takes it from there (analytics/pipeline.py). surveys never imports analytics.
        from analytics import pipeline
        from surveys.pulses.signals import run_closed

        run_closed.connect(pipeline.on_run_closed, dispatch_uid="analytics.pipeline.run_closed")
