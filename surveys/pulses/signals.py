"""What pulses announce to whoever needs to know, without knowing who that is.

`run_closed(sender=PulseRun, run_id=…)` is sent inside the close's transaction, after the
responses were rewritten; analytics connects it to its pipeline (analytics/apps.py), which
computes the results once the transaction commits. Receivers must only hand work on
(enqueue on commit): the close must not wait for them or fail by them.
"""

from __future__ import annotations

from django.dispatch import Signal

run_closed = Signal()
