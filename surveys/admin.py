"""The surveys app's admin, one module per feature package. Responses, answers, retro cards
and invitations are deliberately not registered: no admin screen can put an answer or a
card next to a person (config/admin.py: nor does a delete confirmation count them)."""

from __future__ import annotations

from surveys.people import admin as people
from surveys.pulses import admin as pulses
from surveys.retros import admin as retros

__all__ = ["people", "pulses", "retros"]
