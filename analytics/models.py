"""The analytics app's models, one module per domain; importing them here is what registers
them with the app (their tables keep the `analytics_` names).

- `analytics.insights.models`: run aggregates, team-periods, roll-ups, alerts, correlations
- `analytics.delivery.models`: repositories, commits, pull requests, deployments, team-weeks
"""

from __future__ import annotations

from analytics.delivery import models as delivery
from analytics.insights import models as insights

__all__ = ["delivery", "insights"]
