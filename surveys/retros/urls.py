from __future__ import annotations

from django.urls import path

from surveys.retros import views

urlpatterns = [
    path("r/<str:token>/", views.retro_write, name="retro-write"),
    path("retros/", views.my_retros, name="my-retros"),
    path("retros/<id:session_id>/", views.retro_session_detail, name="retro-session"),
    path("retros/<id:session_id>/write/", views.my_retro_write, name="my-retro-write"),
    path("retros/<id:session_id>/close/", views.retro_session_close, name="retro-session-close"),
    path("retros/<id:session_id>/print/", views.retro_session_print, name="retro-session-print"),
    path(
        "retros/<id:session_id>/export.<str:export_format>",
        views.retro_session_export,
        name="retro-session-export",
    ),
    path("teams/<slug:slug>/retros/", views.team_retros, name="team-retros"),
    path("teams/<slug:slug>/retros/new/", views.retro_session_new, name="retro-session-new"),
]
