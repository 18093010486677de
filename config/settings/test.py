"""The test suite. Runs on SQLite by default, on PostgreSQL and Redis when DATABASE_URL
and REDIS_URL are set (CI does both)."""

from __future__ import annotations

from config.settings.base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"invitation": "1000/minute"}}  # noqa: F405

# A file, not SQLite's shared in-memory database: concurrent-submission tests need real
# locking (busy_timeout), and the live server and Celery worker threads share it.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-candor.sqlite3")}  # noqa: F405
if not REDIS_URL:  # noqa: F405
    CELERY_BROKER_URL = f"sqla+sqlite:///{DATA_DIR / 'test-celery-broker.sqlite3'}"  # noqa: F405
CANDOR_BASE_URL = "http://testserver"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
