"""Emails carrying single-use links, rendered from HTML and plain-text templates."""

from __future__ import annotations

from typing import Any

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def templated_email_send(*, name: str, context: dict[str, Any], to: str) -> None:
    """emails/{name}_subject.txt, {name}.txt and {name}.html, to one address."""
    subject = render_to_string(f"emails/{name}_subject.txt", context).strip()
    message = EmailMultiAlternatives(
        subject=subject, body=render_to_string(f"emails/{name}.txt", context), to=[to]
    )
    message.attach_alternative(render_to_string(f"emails/{name}.html", context), "text/html")
    message.send()
