"""The API twins of single-use links, for pulses and retros."""

from __future__ import annotations

from typing import TypeVar

from django.db import models
from django.db.models import QuerySet
from django.http import Http404
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from surveys.links.throttling import InvitationRateThrottle

InvitationT = TypeVar("InvitationT", bound=models.Model)


# No docstring on purpose: drf-spectacular would inherit it as every subclass's operation
# description. No login and no session: the token in the path is the credential, so a
# link works in any browser, and the same throttle as the link pages guards it.
@method_decorator(never_cache, name="dispatch")
class LinkApiView(APIView):
    permission_classes = (AllowAny,)
    authentication_classes = ()
    throttle_classes = (InvitationRateThrottle,)


def own_invitation(invitations: QuerySet[InvitationT], **window: int) -> InvitationT:
    """The one of the person's open `invitations` for this run or session (e.g.
    `run_id=…`); Http404 if there is none."""
    invitation = invitations.filter(**window).first()
    if invitation is None:
        raise Http404
    return invitation
