# syntax=docker/dockerfile:1
# Candor production image: gunicorn serving config.wsgi on 0.0.0.0:8000. The same image runs
# the Celery worker and beat (see docker-compose.yml). Configuration is by environment
# variables only; DJANGO_SECRET_KEY is required at run time.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    CANDOR_DATA_DIR=/var/lib/candor \
    WEB_CONCURRENCY=3

RUN groupadd --system --gid 10001 candor \
    && useradd --system --uid 10001 --gid candor --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin candor

WORKDIR /app

# Dependencies first, from pyproject.toml alone, so editing the code reuses this layer.
# The empty packages only let setuptools build; the real code replaces them below.
COPY pyproject.toml ./
RUN mkdir -p config surveys analytics \
    && touch config/__init__.py surveys/__init__.py analytics/__init__.py \
    && pip install . \
    && pip uninstall -y candor \
    && rm -rf config surveys analytics build ./*.egg-info

COPY . .
RUN pip install --no-deps . && rm -rf build ./*.egg-info

# Static files at build time into the image (STATIC_ROOT is /app/staticfiles, outside the
# data volume). The secret is a throwaway that exists only in this step.
RUN mkdir -p "$CANDOR_DATA_DIR" \
    && DJANGO_SECRET_KEY="build-only-collectstatic-not-a-secret-0123456789abcdefghijklmnop" \
        python manage.py collectstatic --noinput \
    && chown -R candor:candor "$CANDOR_DATA_DIR"

USER 10001:10001
EXPOSE 8000

# /healthz answers 200 once the app and its database answer. With the production settings a
# probe must send an allowed Host and X-Forwarded-Proto: https (or it gets 400 or a redirect
# to https); docker-compose.yml's web health check does both. No HEALTHCHECK here because
# the worker and beat containers run this same image.
CMD ["gunicorn", "config.wsgi", \
     "--bind", "0.0.0.0:8000", \
     "--worker-tmp-dir", "/dev/shm", \
     "--timeout", "60", \
     "--graceful-timeout", "30", \
     "--access-logfile", "-", \
     "--error-logfile", "-"]
