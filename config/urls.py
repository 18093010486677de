"""Every URL of the site: pages by feature, the API under /api/ (config/api/urls.py)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from config import views

handler404 = "config.api.errors.not_found"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", include("config.api.urls")),
    path("", include("analytics.insights.urls")),
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("", include("surveys.pulses.urls")),
    path("", include("surveys.retros.urls")),
]
