"""Why cards cannot be written or shown, with the HTTP status and the message a person
sees."""

from __future__ import annotations

from surveys.links.errors import LinkError


class RetroError(LinkError):
    """A request about a retro that cannot be honoured."""

    title = "Cards cannot be written here"


class RetroInvitationNotFound(RetroError):
    status_code = 404
    code = "invitation_not_found"
    title = "This link is not valid"


class RetroAlreadySubmitted(RetroError):
    status_code = 409
    code = "already_submitted"
    title = "Your cards are already in"


class RetroClosed(RetroError):
    status_code = 410
    code = "retro_closed"
    title = "This retro has closed"


class RetroNotOpen(RetroError):
    status_code = 409
    code = "retro_not_open"
    title = "This retro is not open yet"


class RetroBoardHidden(RetroError):
    status_code = 409
    code = "board_hidden"
    title = "The cards are not shown yet"
