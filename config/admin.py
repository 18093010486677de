"""What every admin screen of Candor shares: a delete confirmation that neither lists nor
counts the records whose number would say something about people (anonymous answers and
cards, commits and pull requests). Each app names its own with `unlisted(...)` in its
admin module; the Django admin loads every app's admin before it serves a page."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.utils.text import capfirst

# Never listed nor counted on a delete confirmation: how many responses a run has (open,
# or under k) and which commits are whose are exactly what must not show.
_UNLISTED: list[type[models.Model]] = []


def unlisted(*kinds: type[models.Model]) -> None:
    """Add models whose records no delete confirmation lists or counts."""
    _UNLISTED.extend(kind for kind in kinds if kind not in _UNLISTED)


def _unlisted(entry: object) -> bool:
    text = str(entry)
    return any(text.startswith(f"{capfirst(m._meta.verbose_name)}: ") for m in _UNLISTED)


def _without_unlisted(nested: list[Any]) -> list[Any]:
    """Django's nested list of what a deletion takes with it (each entry, then the list of
    what it takes), without the unlisted records and what hangs off them."""
    kept: list[Any] = []
    skipping = False
    for entry in nested:
        if isinstance(entry, list):
            if not skipping:
                kept.append(_without_unlisted(entry))
            skipping = False
        else:
            skipping = _unlisted(entry)
            if not skipping:
                kept.append(entry)
    return kept


class QuietDeletionAdmin(admin.ModelAdmin):
    """A ModelAdmin whose delete confirmation (page and bulk action) neither lists nor
    counts the anonymous records or the commits and pull requests a deletion would take
    with it or is blocked by; it names their kind only, with no number."""

    def get_deleted_objects(
        self, objs: Any, request: HttpRequest
    ) -> tuple[list[Any], dict[Any, int], set[Any], list[Any]]:
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        hidden = {str(m._meta.verbose_name_plural) for m in _UNLISTED}
        present = [name for name in counts if str(name) in hidden]
        counts = {name: count for name, count in counts.items() if str(name) not in hidden}
        deleted = _without_unlisted(deleted) + [
            f"{capfirst(name)} (not listed)" for name in present
        ]
        blocked = [entry for entry in protected if _unlisted(entry)]
        protected = [entry for entry in protected if not _unlisted(entry)]
        if blocked:
            kinds = sorted({str(entry).split(":")[0] for entry in blocked})
            protected.append(f"{', '.join(kinds)} records (not listed)")
        return deleted, counts, perms_needed, protected
