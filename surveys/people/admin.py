"""Admin of organisations, teams and memberships, for operators."""

from __future__ import annotations

from django.contrib import admin

from config.admin import QuietDeletionAdmin
from surveys.people.models import Membership, Organisation, Team


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
