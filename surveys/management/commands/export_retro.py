"""`python manage.py export_retro SESSION_ID --format md|csv|json [--prompts-only]`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from surveys.retros.board import retro_document
from surveys.retros.errors import RetroBoardHidden
from surveys.retros.exports import FORMATS, document_render
from surveys.retros.models import RetroSession


class Command(BaseCommand):
    help = (
        "Print a retro's prompts, or its prompts and published shared cards, as Markdown, CSV "
        "or JSON. Like reading the board, this publishes the submissions written since the "
        "last batch if there are at least k of them. Nothing in it identifies anyone."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("session_id", type=int, help="The retro session's id.")
        parser.add_argument("--format", choices=FORMATS, required=True, dest="export_format")
        parser.add_argument(
            "--prompts-only", action="store_true", help="Only the prompts, for before the retro."
        )

    def handle(
        self, *args: Any, session_id: int, export_format: str, prompts_only: bool, **options: Any
    ) -> None:
        session = RetroSession.objects.select_related("team").filter(pk=session_id).first()
        if session is None:
            raise CommandError(f"There is no retro session {session_id}.")
        try:
            document = retro_document(session=session, with_cards=not prompts_only)
        except RetroBoardHidden as error:
            raise CommandError(f"{error.message} Use --prompts-only for the prompts.") from None
        self.stdout.write(document_render(document, export_format), ending="")
