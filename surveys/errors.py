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
