from __future__ import annotations

from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = "Pulse surveys"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from surveys import converters  # registers the <id:…> URL converter

        del converters
