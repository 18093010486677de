"""`python manage.py seed_demo`: the demo organisation with twelve weeks of pulses and
retros."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from demo import organisation as demo
from demo.retros import demo_retro_link


class Command(BaseCommand):
    help = "Create the demo organisation (idempotent) and print the demo logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--print-logins", action="store_true", help="Only print the demo logins."
        )

    def handle(self, *args: Any, print_logins: bool = False, **options: Any) -> None:
        if not print_logins:
            organisation = demo.demo_seed()
            self.stdout.write(self.style.SUCCESS(f"Demo organisation ready: {organisation.name}"))
            return
        self.stdout.write(f"\n  Candor is running at {settings.CANDOR_BASE_URL}/\n")
        self.stdout.write(f"  Demo logins (password for all: {demo.DEMO_PASSWORD}):")
        for username, who in demo.demo_logins():
            self.stdout.write(f"    {username:<7} {who}")
        link = demo.demo_link()
        if link:
            self.stdout.write(f"\n  Answer this week's pulse as alex, no login needed:\n    {link}")
        retro_link = demo_retro_link()
        if retro_link:
            self.stdout.write(f"\n  Write this sprint's retro cards as alex:\n    {retro_link}")
        self.stdout.write("")
