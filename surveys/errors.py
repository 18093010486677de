"""Domain errors with the HTTP status and the message a person sees."""

from __future__ import annotations


class InvitationsNotSent(Exception):
    """Some invitation emails failed; the rest went out. Raised so a retry resends those."""


class PulseError(Exception):
    """A request about a pulse that cannot be honoured; never a server fault."""

    status_code = 400
    code = "invalid"
    title = "This pulse cannot be answered"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvitationNotFound(PulseError):
    status_code = 404
    code = "invitation_not_found"
    title = "This link is not valid"


class InvitationUsed(PulseError):
    status_code = 409
    code = "already_answered"
    title = "This pulse has already been answered"


class RunClosed(PulseError):
    status_code = 410
    code = "run_closed"
    title = "This pulse has closed"


class RunNotOpen(PulseError):
    status_code = 409
    code = "run_not_open"
    title = "This pulse is not open yet"


class RetroError(PulseError):
    """A request about a retro that cannot be honoured; handled like a PulseError (its
    status, code and message reach the page or the API as they are)."""

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
