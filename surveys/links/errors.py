"""What can go wrong with a single-use link, for pulses and retros alike."""

from __future__ import annotations

from config.api.errors import ClientError


class LinkError(ClientError):
    """A request through a single-use link (or one's own open invitation) that cannot be
    honoured; never a server fault. Pulses and retros subclass it with their own words."""


class InvitationsNotSent(Exception):
    """Some invitation emails failed; the rest went out. Raised so a retry resends those."""
