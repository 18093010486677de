from __future__ import annotations

from django.urls import path

from surveys.pulses import views

urlpatterns = [
    path("p/<str:token>/", views.pulse_answer, name="pulse-answer"),
    path("pulses/", views.my_pulses, name="my-pulses"),
    path("pulses/<id:run_id>/", views.my_pulse_answer, name="my-pulse-answer"),
]
