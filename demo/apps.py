from __future__ import annotations

from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The quickstart's demo organisation (`manage.py seed_demo`): no models, only the
    code that fills both apps with a plausible history through their real services."""

    name = "demo"
    verbose_name = "Demo data"
