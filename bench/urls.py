"""The project's URLs plus the two baselines the submission endpoint is compared with."""

from __future__ import annotations

import uuid

from django.db import connection, transaction
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from config.urls import urlpatterns as base

BENCH_TABLE = "bench_row"
INSERT_SQL = f"INSERT INTO {BENCH_TABLE} (id, payload) VALUES (%s, %s)"  # noqa: S608


@require_GET
def ping(request: HttpRequest) -> JsonResponse:
    """Django's request/response cycle and nothing else."""
    return JsonResponse({"ok": True})


@csrf_exempt
@require_POST
def insert(request: HttpRequest) -> JsonResponse:
    """One row into the benchmark database, in a transaction like a submission's."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(INSERT_SQL, [str(uuid.uuid4()), request.body.decode()])
    return JsonResponse({"ok": True}, status=201)


urlpatterns = [
    path("bench/ping", ping, name="bench-ping"),
    path("bench/insert", insert, name="bench-insert"),
    *base,
]
