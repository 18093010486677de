from __future__ import annotations

from datetime import date, datetime, timedelta

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.utils import timezone

from surveys.people.models import Membership, Organisation, Role, Team
from surveys.pulses.models import Pulse


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"person{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw")


class OrganisationFactory(factory.django.DjangoModelFactory[Organisation]):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Org {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")


class TeamFactory(factory.django.DjangoModelFactory[Team]):
    class Meta:
        model = Team

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")


class MembershipFactory(factory.django.DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    team = factory.SubFactory(TeamFactory)
    role = Role.ENGINEER
    start = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=365))


class PulseFactory(factory.django.DjangoModelFactory[Pulse]):
    class Meta:
        model = Pulse

    team = factory.SubFactory(TeamFactory)
    start_date = factory.LazyFunction(lambda: this_monday() - timedelta(weeks=4))
    answer_window_days = 7


def this_monday() -> date:
    """The Monday of this ISO week (local time): the anchor the tests' weekly runs hang on."""
    today = timezone.localdate()
    return today - timedelta(days=today.weekday())


def opened_ago(ago: timedelta) -> datetime:
    """When a run or retro that a test opens "now" opens: `ago` before now, but never before
    today's local midnight. Who is invited is decided by the local date of the opening, so
    this keeps that date today at any hour (at 00:30, an hour ago is yesterday, and a
    membership starting or ending today would fall on the other side of it)."""
    now = timezone.now()
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(now - ago, midnight)
