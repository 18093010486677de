"""Invitation, reminder and retro invitation emails, rendered from HTML and plain-text
templates."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from surveys.models import Invitation
from surveys.retros.models import RetroInvitation


def _templated_email_send(*, name: str, context: dict[str, Any], to: str) -> None:
    """emails/{name}_subject.txt, {name}.txt and {name}.html, to one address."""
    subject = render_to_string(f"emails/{name}_subject.txt", context).strip()
    message = EmailMultiAlternatives(
        subject=subject, body=render_to_string(f"emails/{name}.txt", context), to=[to]
    )
    message.attach_alternative(render_to_string(f"emails/{name}.html", context), "text/html")
    message.send()


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
    _templated_email_send(name=name, context=context, to=invitation.user.email)


def retro_invitation_email_send(*, invitation: RetroInvitation, raw_token: str) -> None:
    session = invitation.session
    context = {
        "user": invitation.user,
        "session": session,
        "team": session.team,
        "link": settings.CANDOR_BASE_URL + reverse("retro-write", args=[raw_token]),
        "prompts": [prompt.text for prompt in session.prompts.all()],
    }
    _templated_email_send(name="retro_invitation", context=context, to=invitation.user.email)
