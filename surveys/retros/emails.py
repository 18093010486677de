"""The email inviting a team to write its retro cards."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from surveys.links.emails import templated_email_send
from surveys.retros.models import RetroInvitation


def retro_invitation_email_send(*, invitation: RetroInvitation, raw_token: str) -> None:
    session = invitation.session
    context = {
        "user": invitation.user,
        "session": session,
        "team": session.team,
        "link": settings.CANDOR_BASE_URL + reverse("retro-write", args=[raw_token]),
        "prompts": [prompt.text for prompt in session.prompts.all()],
    }
    templated_email_send(name="retro_invitation", context=context, to=invitation.user.email)
