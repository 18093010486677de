"""The pulse API: one thin class per operation; reads go through selectors, writes
through services, the same ones the pages use."""

from __future__ import annotations

from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.schema import LINK_ERRORS
from surveys.links.api import LinkApiView, own_invitation
from surveys.people.access import IsOrgAdmin
from surveys.pulses import selectors, services
from surveys.pulses import serializers as s
from surveys.pulses.models import Invitation


class RunListApi(APIView):
    @extend_schema(responses=s.RunOutput(many=True), summary="Opened and closed runs you can see")
    def get(self, request: Request) -> Response:
        runs = selectors.runs_visible_to(user=request.user).order_by(
            "team__name", "period_start", "id"
        )
        return Response(s.RunOutput(runs, many=True).data)


def _pulse_form(invitation: Invitation) -> dict:
    questions = [rq.question for rq in invitation.run.run_questions.select_related("question")]
    return {"run": invitation.run, "questions": questions}


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


class InvitationApi(LinkApiView):
    """The single-use link's API twin: no login; the token is the credential."""

    @extend_schema(
        responses={200: s.PulseFormOutput, **LINK_ERRORS},
        summary="The questions behind an invitation link",
    )
    def get(self, request: Request, token: str) -> Response:
        invitation = services.invitation_redeem(raw_token=token)
        return Response(s.PulseFormOutput(_pulse_form(invitation)).data)


class InvitationResponseApi(LinkApiView):
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
    return own_invitation(selectors.invitations_open_for(user=request.user), run_id=run_id)


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
