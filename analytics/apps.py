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

        # A changed adoption date or baseline window: the organisation's periods are due.
        from surveys.people.signals import design_changed

        design_changed.connect(
            pipeline.on_design_changed, dispatch_uid="analytics.pipeline.design_changed"
        )

        # People's Git identities are names too: the masking of retro cards asks for them
        # through this registry, as surveys cannot read analytics' tables.
        from analytics.delivery.selectors import contributor_names
        from surveys.people.names import name_source_register

        name_source_register("analytics.delivery.contributors", contributor_names)
