"""The analytics app's admin: Git import (analytics/delivery/admin.py). Commits and pull
requests are not registered: no screen lists a person's commits."""

from __future__ import annotations

from analytics.delivery import admin as delivery

__all__ = ["delivery"]
