"""Result and insight pages."""

from __future__ import annotations

from django.urls import path

from analytics.insights import views

urlpatterns = [
    path("teams/", views.dashboard, name="dashboard"),
    path("teams/<slug:slug>/", views.team_results, name="team-results"),
    path("runs/<id:run_id>/", views.run_results, name="run-results"),
    path("insights/", views.heatmap, name="insights"),
    path("insights.csv", views.heatmap_csv, name="insights-csv"),
    path("alerts/", views.alerts, name="alerts"),
    path("teams/<slug:slug>/insights/", views.team_insights, name="team-insights"),
    path("teams/<slug:slug>/insights.csv", views.team_insights_csv, name="team-insights-csv"),
    path("teams/<slug:slug>/report/", views.team_report, name="team-report"),
]
