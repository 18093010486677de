"""Why a pulse cannot be answered, with the HTTP status and the message a person sees."""

from __future__ import annotations

from surveys.links.errors import LinkError


class PulseError(LinkError):
    """A request about a pulse that cannot be honoured."""

    title = "This pulse cannot be answered"


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
