"""Django's shell, quiet about its automatic imports when it runs a command (-c): a script's
output is then only what the script prints, so it can be read by another program."""

from __future__ import annotations

from typing import Any

from django.core.management.commands import shell


class Command(shell.Command):
    def get_namespace(self, **options: Any) -> dict[str, Any]:
        if options.get("command"):
            options = {**options, "verbosity": 0}
        return super().get_namespace(**options)
