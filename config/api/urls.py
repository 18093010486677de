"""The project API's router: every route under /api/, each to the feature's API module
that owns it, plus the OpenAPI schema and its browsable docs."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from analytics.delivery import api as delivery
from analytics.insights import api as insights
from surveys.people import api as people
from surveys.pulses import api as pulses
from surveys.retros import api as retros

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # A page: its HTML renderer has nothing to show for OPTIONS, so it answers GET alone.
    path(
        "docs/",
        SpectacularSwaggerView.as_view(url_name="schema", http_method_names=["get", "head"]),
        name="swagger-ui",
    ),
    path("teams/", people.TeamListApi.as_view(), name="api-teams"),
    path("teams/<slug:slug>/results/", insights.TeamResultsApi.as_view(), name="api-team-results"),
    path(
        "teams/<slug:slug>/questions/",
        insights.TeamQuestionTrendsApi.as_view(),
        name="api-team-questions",
    ),
    path(
        "teams/<slug:slug>/delivery/", delivery.TeamDeliveryApi.as_view(), name="api-team-delivery"
    ),
    path("teams/<slug:slug>/periods/", insights.TeamPeriodsApi.as_view(), name="api-team-periods"),
    path(
        "teams/<slug:slug>/correlations/",
        insights.TeamCorrelationsApi.as_view(),
        name="api-team-correlations",
    ),
    path("teams/<slug:slug>/rollups/", insights.TeamRollupsApi.as_view(), name="api-team-rollups"),
    path("insights/heatmap/", insights.HeatmapApi.as_view(), name="api-heatmap"),
    path("alerts/", insights.AlertListApi.as_view(), name="api-alerts"),
    path("runs/", pulses.RunListApi.as_view(), name="api-runs"),
    path("runs/<id:run_id>/results/", insights.RunResultsApi.as_view(), name="api-run-results"),
    path("invitations/<str:token>/", pulses.InvitationApi.as_view(), name="api-invitation"),
    path(
        "invitations/<str:token>/response/",
        pulses.InvitationResponseApi.as_view(),
        name="api-invitation-response",
    ),
    path("me/pulses/", pulses.MyPulseListApi.as_view(), name="api-my-pulses"),
    path("me/pulses/<id:run_id>/", pulses.MyPulseApi.as_view(), name="api-my-pulse"),
    path("questions/", pulses.QuestionListApi.as_view(), name="api-questions"),
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
