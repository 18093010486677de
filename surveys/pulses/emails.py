"""The invitation and reminder emails of a pulse run."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from surveys.links.emails import templated_email_send
from surveys.pulses.models import Invitation


def invitation_email_send(*, invitation: Invitation, raw_token: str, reminder: bool) -> None:
    run = invitation.run
    context = {
        "user": invitation.user,
        "run": run,
        "team": run.team,
        "link": settings.CANDOR_BASE_URL + reverse("pulse-answer", args=[raw_token]),
        "reminder": reminder,
        "question_count": len(run.form),
    }
    name = "reminder" if reminder else "invitation"
    templated_email_send(name=name, context=context, to=invitation.user.email)
