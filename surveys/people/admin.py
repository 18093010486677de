"""Admin of organisations, teams, memberships and nicknames, for operators."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from config.admin import QuietDeletionAdmin
from surveys.people.models import Membership, Nickname, Organisation, Team
from surveys.people.signals import DESIGN_FIELDS, design_changed


class DesignAnnounced(QuietDeletionAdmin):
    """Saving a changed adoption date or baseline window announces it (signals.py)."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if DESIGN_FIELDS & set(form.changed_data):
            organisation_id = obj.pk if isinstance(obj, Organisation) else obj.organisation_id
            design_changed.send(sender=type(obj), organisation_id=organisation_id)


@admin.register(Organisation)
class OrganisationAdmin(DesignAnnounced):
    list_display = ("name", "slug", "ai_adopted_on")
    prepopulated_fields = {"slug": ("name",)}


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Team)
class TeamAdmin(DesignAnnounced):
    list_display = ("name", "parent", "organisation", "ai_adopted_on")
    list_filter = ("organisation",)
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}
    inlines = (MembershipInline,)


@admin.register(Membership)
class MembershipAdmin(QuietDeletionAdmin):
    list_display = ("user", "team", "role", "start", "end")
    list_filter = ("role", "team")
    autocomplete_fields = ("user", "team")


@admin.register(Nickname)
class NicknameAdmin(QuietDeletionAdmin):
    """The nicknames under which names are masked in retro cards; rows without an
    organisation apply to every organisation."""

    list_display = ("name", "nicknames", "organisation")
    list_filter = (("organisation", admin.EmptyFieldListFilter), "organisation")
    search_fields = ("name", "nicknames")
