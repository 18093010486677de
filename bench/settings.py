"""Settings for the benchmark's gunicorn, migrate and fixture processes.

The local settings plus two bare baseline views, no debug, quiet logging and a throttle
rate high enough never to trigger. The runner points CANDOR_DATA_DIR at a temp dir and
DATABASE_URL at a fresh database, so nothing under data/ is touched.
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

from config.settings.local import *  # noqa: F403

if "CANDOR_DATA_DIR" not in os.environ:
    raise ImproperlyConfigured("bench.settings needs CANDOR_DATA_DIR (python -m bench sets one).")

DEBUG = False
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405 — else WhiteNoise warns per worker
ROOT_URLCONF = "bench.urls"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {"invitation": "1000000/minute"},
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    # Errors (5xx tracebacks) only; they land in the gunicorn log in the temp dir.
    "root": {"handlers": ["console"], "level": "ERROR"},
}
