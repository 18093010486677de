"""Settings shared by every environment; each value comes from the environment.

The embedded default (no variables set) is SQLite plus a SQLite-backed Celery broker in
CANDOR_DATA_DIR. Setting DATABASE_URL and REDIS_URL switches to PostgreSQL and Redis with
no code change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dj_database_url
from celery.schedules import crontab

from config.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = Path(env_str("CANDOR_DATA_DIR", str(BASE_DIR / "data"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = env_str("DJANGO_SECRET_KEY", "insecure-development-key-change-me")
# Old keys still accepted (sessions, signed values) and tried when opening sealed
# submissions (surveys/links/sealing.py): keep a rotated key here until every pulse run
# and retro session open at the rotation has closed.
SECRET_KEY_FALLBACKS = env_list("DJANGO_SECRET_KEY_FALLBACKS")
DEBUG = env_bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "surveys",
    "analytics",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.NulQueryMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _database(url: str) -> dict[str, Any]:
    config: dict[str, Any] = dict(
        dj_database_url.parse(url, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60))
    )
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets readers run beside the single writer; IMMEDIATE takes the write lock at
        # BEGIN so concurrent submissions queue on busy_timeout instead of failing to upgrade.
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA secure_delete=ON;"
            ),
        }
    return config


DATABASES = {
    "default": _database(env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'candor.sqlite3'}"))
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    # Throttle counters only; a request waits at most a quarter of a second for Redis and
    # then carries on in memory (config/cache.py).
    CACHES = {
        "default": {
            "BACKEND": "config.cache.FallbackRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.25},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("CANDOR_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Outside the data directory, so an image built with collectstatic keeps its own files.
STATIC_ROOT = Path(env_str("CANDOR_STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: its WWW-Authenticate header makes a missing login a 401, which a
        # client can tell apart from a 403 (logged in, not allowed).
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "config.api.schema.CandorAutoSchema",
    # Per client address on the link pages and their API twins (surveys/links/throttling.py).
    # Tokens carry 256 bits, so this is about load, not guessing; an office behind one NAT
    # address needs headroom.
    "DEFAULT_THROTTLE_RATES": {"invitation": env_str("CANDOR_INVITATION_RATE", "120/minute")},
    # How many proxies in front add X-Forwarded-For: the client address is the one the
    # nearest of them saw. 0 trusts no header, so a client cannot pick its own address.
    "NUM_PROXIES": env_int("CANDOR_PROXY_COUNT", 0, minimum=0),
    "EXCEPTION_HANDLER": "config.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Candor API",
    "DESCRIPTION": "Anonymous pulse surveys and team-level results. Nothing under k is returned.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # One name for the retro card effects, whether a field allows blank or not.
    "ENUM_NAME_OVERRIDES": {"CardEffectEnum": "surveys.retros.models.CardEffect"},
}

# Email: console in development, SMTP in production (see config/settings/production.py).
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Candor <candor@localhost>")
CANDOR_BASE_URL = env_str("CANDOR_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

# GitHub (or GitHub Enterprise: https://HOST/api/v3) for pull-request sync.
GITHUB_API_URL = env_str("GITHUB_API_URL", "https://api.github.com")
GITHUB_TOKEN = env_str("GITHUB_TOKEN", "")

# Celery: the broker is Redis when REDIS_URL is set, else kombu's SQLAlchemy transport on a
# SQLite file, so the quickstart needs no server. JSON only; every task has time limits.
CELERY_BROKER_URL = REDIS_URL or f"sqla+sqlite:///{DATA_DIR / 'celery-broker.sqlite3'}"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A frozen Redis (connections accepted, nothing answered) must not hang whoever enqueues:
# every read waits at most BROKER_SOCKET_SECONDS (above kombu's 1 s BRPOP poll, so idle
# workers never time out) and a publish is tried twice. Work that is enqueued also sits in
# an outbox that a beat sweep takes up, so a publish that gives up loses nothing. (The
# SQLite broker passes its options to SQLAlchemy, which takes none of these.)
BROKER_SOCKET_SECONDS = 3
REDIS_BROKER_TRANSPORT_OPTIONS = {
    "socket_timeout": BROKER_SOCKET_SECONDS,
    "socket_connect_timeout": BROKER_SOCKET_SECONDS,
}
CELERY_BROKER_TRANSPORT_OPTIONS = REDIS_BROKER_TRANSPORT_OPTIONS if REDIS_URL else {}
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 0.5,
}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "pulse-schedule-tick": {"task": "surveys.tasks.pulse_schedule_tick", "schedule": 60.0},
    "retro-sessions-close-due": {
        "task": "surveys.tasks.retro_sessions_close_due",
        "schedule": 60.0,
    },
    "aggregates-refresh-stale": {
        "task": "surveys.tasks.aggregates_refresh_stale",
        "schedule": 60.0,
    },
    "repositories-sync": {"task": "analytics.tasks.repositories_sync", "schedule": 3600.0},
    "safety-alerts-notify-pending": {
        "task": "analytics.tasks.safety_alerts_notify_pending",
        "schedule": 600.0,
    },
    "nightly-aggregates": {
        "task": "surveys.tasks.aggregates_refresh_all",
        "schedule": crontab(hour=2, minute=15),
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")

# Server-error reports (the admins' email) hide POST data, local variables and link
# tokens: during a submission they would put a person next to their answers.
DEFAULT_EXCEPTION_REPORTER = "config.error_reports.TokenFreeExceptionReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = "config.error_reports.AnswerFreeReporterFilter"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_tokens": {"()": "config.logging.RedactInvitationTokens"}},
    "formatters": {"plain": {"format": "%(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_tokens"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("CANDOR_LOG_LEVEL", "INFO")},
    # These log request paths themselves; filtering at the logger covers every handler.
    "loggers": {
        name: {"filters": ["redact_tokens"]}
        for name in ("django.request", "django.server", "gunicorn.access", "gunicorn.error")
    },
}
