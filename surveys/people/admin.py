"""Admin of organisations, teams, memberships and nicknames, for operators."""

from __future__ import annotations

from django.contrib import admin

from config.admin import QuietDeletionAdmin
from surveys.people.models import Membership, Nickname, Organisation, Team


@admin.register(Organisation)
class OrganisationAdmin(QuietDeletionAdmin):
    list_display = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Team)
class TeamAdmin(QuietDeletionAdmin):
    list_display = ("name", "parent", "organisation")
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
