from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

handler404 = "surveys.api.errors.not_found"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", include("surveys.api.urls")),
    path("", include("analytics.urls")),
    path("", include("surveys.urls")),
]
