"""The surveys app's models, one module per feature package; importing them here is what
registers them with the app (their tables keep the `surveys_` names).

- `surveys.people.models`: organisations, teams, memberships
- `surveys.pulses.models`: the question bank, pulses, runs, invitations, sealed and
  anonymous responses
- `surveys.retros.models`: retro sessions, prompts, invitations, sealed submissions,
  anonymous cards, tallies

(`surveys.links.models` holds what both share: `SealedSubmission` is abstract.)
"""

from __future__ import annotations

from surveys.people import models as people
from surveys.pulses import models as pulses
from surveys.retros import models as retros

__all__ = ["people", "pulses", "retros"]
