"""Settings for the processes the fault tests start and kill (Celery workers, a web
server): the test settings, pointed by the environment at the test database, with an
email backend that writes each message to a file the test reads."""

from __future__ import annotations

from config.env import env_int
from config.settings.test import *  # noqa: F403

EMAIL_BACKEND = "tests.security.faults_mail.FileMailBackend"

# A message a dead worker held goes back to the Redis queue after this many seconds
# (production keeps Redis's default hour). The SQLite transport never gives it back.
# (The SQLite transport hands its options to SQLAlchemy's create_engine: none for it.)
if REDIS_URL:  # noqa: F405
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env_int("CANDOR_FAULTS_VISIBILITY_TIMEOUT", 3600),
        # Look for such messages every second, not every 100 s.
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }
