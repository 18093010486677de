from __future__ import annotations

from django.urls import include, path

from surveys import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("p/<str:token>/", views.pulse_answer, name="pulse-answer"),
    path("pulses/", views.my_pulses, name="my-pulses"),
    path("pulses/<id:run_id>/", views.my_pulse_answer, name="my-pulse-answer"),
    path("teams/", views.dashboard, name="dashboard"),
    path("teams/<slug:slug>/", views.team_results, name="team-results"),
    path("runs/<id:run_id>/", views.run_results, name="run-results"),
    path("", include("surveys.retros.urls")),
]
