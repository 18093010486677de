"""One thin API class per operation; reads go through selectors, writes through services."""

from __future__ import annotations

from django.http import Http404
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics import selectors as results
from surveys import selectors, services
from surveys.api import serializers as s
from surveys.api.schema import LINK_ERRORS
from surveys.models import Invitation
from surveys.throttling import InvitationRateThrottle


class TeamListApi(APIView):
    @extend_schema(responses=s.TeamOutput(many=True), summary="Teams you can see")
    def get(self, request: Request) -> Response:
        teams = selectors.teams_visible_to(user=request.user).order_by("name")
        return Response(s.TeamOutput(teams, many=True).data)


class TeamResultsApi(APIView):
    @extend_schema(
        responses=s.RunResultsOutput(many=True),
        summary="A team's results across runs (construct scores per run; nothing under k)",
    )
    def get(self, request: Request, slug: str) -> Response:
        trend = results.team_trend(team=selectors.team_get_visible(user=request.user, slug=slug))
        return Response(s.RunResultsOutput(trend, many=True).data)


class TeamQuestionTrendsApi(APIView):
    @extend_schema(
        responses=s.QuestionTrendOutput(many=True),
        summary="Each question's n, mean and CI across a team's runs (hidden under k)",
    )
    def get(self, request: Request, slug: str) -> Response:
        trends = results.team_question_trends(
            team=selectors.team_get_visible(user=request.user, slug=slug)
        )
        return Response(s.QuestionTrendOutput(trends, many=True).data)


class TeamDeliveryApi(APIView):
    @extend_schema(
        responses=s.DeliveryWeekOutput(many=True),
        summary="A team's delivery metrics per ISO week (team level only; weeks under k hidden)",
    )
    def get(self, request: Request, slug: str) -> Response:
        team = selectors.team_get_visible(user=request.user, slug=slug)
        return Response(
            s.DeliveryWeekOutput(results.team_delivery_weeks(team=team), many=True).data
        )


class RunListApi(APIView):
    @extend_schema(responses=s.RunOutput(many=True), summary="Opened and closed runs you can see")
    def get(self, request: Request) -> Response:
        runs = selectors.runs_visible_to(user=request.user).order_by(
            "team__name", "period_start", "id"
        )
        return Response(s.RunOutput(runs, many=True).data)


class RunResultsApi(APIView):
    @extend_schema(responses=s.RunResultsOutput, summary="One run's results (nothing under k)")
    def get(self, request: Request, run_id: int) -> Response:
        run = selectors.run_get_visible(user=request.user, run_id=run_id)
        return Response(s.RunResultsOutput(results.run_results(run=run)).data)


def _pulse_form(invitation: Invitation) -> dict:
    questions = [rq.question for rq in invitation.run.run_questions.select_related("question")]
    return {"run": invitation.run, "questions": questions}


@method_decorator(never_cache, name="dispatch")
class InvitationApi(APIView):
    """The single-use link's API twin: no login; the token is the credential."""

    permission_classes = (AllowAny,)
    authentication_classes = ()
    throttle_classes = (InvitationRateThrottle,)

    @extend_schema(
        responses={200: s.PulseFormOutput, **LINK_ERRORS},
        summary="The questions behind an invitation link",
    )
    def get(self, request: Request, token: str) -> Response:
        invitation = services.invitation_redeem(raw_token=token)
        return Response(s.PulseFormOutput(_pulse_form(invitation)).data)


@method_decorator(never_cache, name="dispatch")
class InvitationResponseApi(APIView):
    permission_classes = (AllowAny,)
    authentication_classes = ()
    throttle_classes = (InvitationRateThrottle,)

    @extend_schema(
        request=s.ResponseInput,
        responses={201: s.ResponseOutput, **LINK_ERRORS},
        summary="Answer a pulse with an invitation link's token (once)",
    )
    def post(self, request: Request, token: str) -> Response:
        payload = s.ResponseInput(data=request.data)
        payload.is_valid(raise_exception=True)
        invitation = services.invitation_redeem(raw_token=token)
        services.response_submit(invitation=invitation, answers=payload.validated_data["answers"])
        return Response({"status": "recorded"}, status=status.HTTP_201_CREATED)


@method_decorator(never_cache, name="dispatch")
class MyPulseListApi(APIView):
    @extend_schema(responses=s.OpenPulseOutput(many=True), summary="Your open pulses")
    def get(self, request: Request) -> Response:
        invitations = selectors.invitations_open_for(user=request.user).order_by("run__closes_at")
        return Response(s.OpenPulseOutput(invitations, many=True).data)


def _my_invitation(request: Request, run_id: int) -> Invitation:
    invitation = selectors.invitations_open_for(user=request.user).filter(run_id=run_id).first()
    if invitation is None:
        raise Http404
    return invitation


@method_decorator(never_cache, name="dispatch")
class MyPulseApi(APIView):
    @extend_schema(responses=s.PulseFormOutput, summary="The questions of one of your open pulses")
    def get(self, request: Request, run_id: int) -> Response:
        return Response(s.PulseFormOutput(_pulse_form(_my_invitation(request, run_id))).data)

    @extend_schema(
        request=s.ResponseInput,
        responses={201: s.ResponseOutput, **LINK_ERRORS},
        summary="Answer one of your open pulses (once)",
    )
    def post(self, request: Request, run_id: int) -> Response:
        payload = s.ResponseInput(data=request.data)
        payload.is_valid(raise_exception=True)
        services.response_submit(
            invitation=_my_invitation(request, run_id), answers=payload.validated_data["answers"]
        )
        return Response({"status": "recorded"}, status=status.HTTP_201_CREATED)


class IsOrgAdmin(IsAuthenticated):
    """Anyone logged in reads; only organisation admins add (POST). Other methods are left
    to the view, which answers 405 for them."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method != "POST":
            return super().has_permission(request, view)
        return super().has_permission(request, view) and selectors.is_org_admin(user=request.user)


class QuestionListApi(APIView):
    permission_classes = (IsOrgAdmin,)

    @extend_schema(responses=s.QuestionOutput(many=True), summary="The question bank")
    def get(self, request: Request) -> Response:
        questions = selectors.questions_visible_to(user=request.user)
        return Response(s.QuestionOutput(questions, many=True).data)

    @extend_schema(
        request=s.QuestionCreateInput,
        responses={201: s.QuestionOutput},
        summary="Add a question to your organisation's bank (admins)",
    )
    def post(self, request: Request) -> Response:
        payload = s.QuestionCreateInput(data=request.data)
        payload.is_valid(raise_exception=True)
        question = services.question_create(user=request.user, **payload.validated_data)
        return Response(s.QuestionOutput(question).data, status=status.HTTP_201_CREATED)
