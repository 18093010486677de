"""Invitation and reminder emails, rendered from HTML and plain-text templates."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from surveys.models import Invitation


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
    subject = render_to_string(f"emails/{name}_subject.txt", context).strip()
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"emails/{name}.txt", context),
        to=[invitation.user.email],
    )
    message.attach_alternative(render_to_string(f"emails/{name}.html", context), "text/html")
    message.send()
