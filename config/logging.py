"""Logging filters. Invitation tokens travel in URL paths (never query strings): pulse links
/p/<token>/ and /api/invitations/<token>/, retro links /r/<token>/ and
/api/retro-invitations/<token>/. Django logs the path of every 4xx, so the token is cut out
of any message before it is written."""

from __future__ import annotations

import logging
import re

TOKEN_IN_PATH = re.compile(r"(/(?:p|r|api/invitations|api/retro-invitations)/)[^/\s\"'?]+")


def token_redacted(text: str) -> str:
    return TOKEN_IN_PATH.sub(r"\1<token>", text)


class RedactInvitationTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = token_redacted(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        # django.request attaches the request itself, whose path holds the token; a handler
        # that prints it (an error email, an error tracker) would write the token down.
        path = getattr(getattr(record, "request", None), "path", None)
        if isinstance(path, str) and token_redacted(path) != path:
            record.request = None
        return True
