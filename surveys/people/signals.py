"""What people's admin announces without knowing who listens.

`design_changed(sender=Organisation or Team, organisation_id=…)` is sent when an admin
changes when AI tools arrived or a team's baseline window: every measured change of the
organisation compares against something else now (and a team not yet adopting may have
become, or stopped being, a comparison team). analytics connects it to mark the
organisation's team-periods for the minute sweep (analytics/apps.py).
"""

from __future__ import annotations

from django.dispatch import Signal

design_changed = Signal()

DESIGN_FIELDS = frozenset({"ai_adopted_on", "baseline_start", "baseline_end"})
