from __future__ import annotations

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from analytics import api as insights
from surveys.api import views
from surveys.retros import api as retros

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # A page: its HTML renderer has nothing to show for OPTIONS, so it answers GET alone.
    path(
        "docs/",
        SpectacularSwaggerView.as_view(url_name="schema", http_method_names=["get", "head"]),
        name="swagger-ui",
    ),
    path("teams/", views.TeamListApi.as_view(), name="api-teams"),
    path("teams/<slug:slug>/results/", views.TeamResultsApi.as_view(), name="api-team-results"),
    path(
        "teams/<slug:slug>/questions/",
        views.TeamQuestionTrendsApi.as_view(),
        name="api-team-questions",
    ),
    path("teams/<slug:slug>/delivery/", views.TeamDeliveryApi.as_view(), name="api-team-delivery"),
    path("teams/<slug:slug>/periods/", insights.TeamPeriodsApi.as_view(), name="api-team-periods"),
    path(
        "teams/<slug:slug>/correlations/",
        insights.TeamCorrelationsApi.as_view(),
        name="api-team-correlations",
    ),
    path("teams/<slug:slug>/rollups/", insights.TeamRollupsApi.as_view(), name="api-team-rollups"),
    path("insights/heatmap/", insights.HeatmapApi.as_view(), name="api-heatmap"),
    path("alerts/", insights.AlertListApi.as_view(), name="api-alerts"),
    path("runs/", views.RunListApi.as_view(), name="api-runs"),
    path("runs/<id:run_id>/results/", views.RunResultsApi.as_view(), name="api-run-results"),
    path("invitations/<str:token>/", views.InvitationApi.as_view(), name="api-invitation"),
    path(
        "invitations/<str:token>/response/",
        views.InvitationResponseApi.as_view(),
        name="api-invitation-response",
    ),
    path("me/pulses/", views.MyPulseListApi.as_view(), name="api-my-pulses"),
    path("me/pulses/<id:run_id>/", views.MyPulseApi.as_view(), name="api-my-pulse"),
    path("questions/", views.QuestionListApi.as_view(), name="api-questions"),
    path("teams/<slug:slug>/retros/", retros.TeamRetroListApi.as_view(), name="api-team-retros"),
    path(
        "teams/<slug:slug>/retro-heatmap/",
        retros.TeamRetroHeatmapApi.as_view(),
        name="api-team-retro-heatmap",
    ),
    path("retros/<id:session_id>/", retros.RetroSessionApi.as_view(), name="api-retro"),
    path(
        "retros/<id:session_id>/close/",
        retros.RetroSessionCloseApi.as_view(),
        name="api-retro-close",
    ),
    path("retros/<id:session_id>/board/", retros.RetroBoardApi.as_view(), name="api-retro-board"),
    path(
        "retros/<id:session_id>/export/<str:export_format>/",
        retros.RetroExportApi.as_view(),
        name="api-retro-export",
    ),
    path(
        "retro-invitations/<str:token>/",
        retros.RetroInvitationApi.as_view(),
        name="api-retro-invitation",
    ),
    path(
        "retro-invitations/<str:token>/submission/",
        retros.RetroInvitationSubmissionApi.as_view(),
        name="api-retro-invitation-submission",
    ),
    path("me/retros/", retros.MyRetroListApi.as_view(), name="api-my-retros"),
    path("me/retros/<id:session_id>/", retros.MyRetroApi.as_view(), name="api-my-retro"),
    path("retro-prompts/", retros.RetroPromptListApi.as_view(), name="api-retro-prompts"),
    path(
        "retro-prompt-sets/", retros.RetroPromptSetListApi.as_view(), name="api-retro-prompt-sets"
    ),
]
