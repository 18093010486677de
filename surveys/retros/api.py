"""The retro API: one thin class per operation; reads through selectors, writes through
services, the same ones the pages use."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.schema import LINK_ERRORS, error
from surveys.links.api import LinkApiView, own_invitation
from surveys.people.access import team_get_runnable, team_get_visible
from surveys.people.selectors import organisation_ids_of
from surveys.retros import board, selectors, services
from surveys.retros import serializers as s
from surveys.retros.exports import CONTENT_TYPES, FORMATS, document_data, document_render
from surveys.retros.models import CardEffect, RetroInvitation, RetroSession, TaskCategory

TAG = ["retros"]
TEAM_NOT_FOUND = error("team: no team you can see has this slug")


def _session_output(session: RetroSession) -> dict[str, Any]:
    return s.RetroSessionOutput(selectors.retro_session_listed(session_id=session.pk)).data


class TeamRetroListApi(APIView):
    @extend_schema(
        tags=TAG,
        responses=s.RetroSessionOutput(many=True),
        summary="A team's retro sessions with how many people's cards are published, where "
        "that counts at least k (team viewers)",
    )
    def get(self, request: Request, slug: str) -> Response:
        team = team_get_visible(user=request.user, slug=slug)
        sessions = selectors.retro_sessions_listed(team_ids=[team.pk]).prefetch_related("prompts")
        return Response(s.RetroSessionOutput(sessions, many=True).data)

    @extend_schema(
        tags=TAG,
        request=s.RetroSessionCreateInput,
        responses={201: s.RetroSessionOutput},
        summary="Open a retro for a team and sprint (facilitators, managers, admins)",
    )
    def post(self, request: Request, slug: str) -> Response:
        team = team_get_runnable(user=request.user, slug=slug)
        payload = s.RetroSessionCreateInput(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        session = services.retro_session_create(
            team=team, created_by=request.user, prompt_ids=data.pop("prompts"), **data
        )
        return Response(_session_output(session), status=status.HTTP_201_CREATED)


class RetroSessionApi(APIView):
    @extend_schema(
        tags=TAG, responses=s.RetroSessionOutput, summary="One retro session (those who run it)"
    )
    def get(self, request: Request, session_id: int) -> Response:
        session = selectors.retro_session_get_runnable(user=request.user, session_id=session_id)
        return Response(_session_output(session))


class RetroSessionCloseApi(APIView):
    @extend_schema(
        tags=TAG,
        request=None,
        responses=s.RetroSessionOutput,
        summary="Close a session now: links stop working; cards written since the board "
        "was last shown are published only if at least k people wrote them",
    )
    def post(self, request: Request, session_id: int) -> Response:
        session = selectors.retro_session_get_runnable(user=request.user, session_id=session_id)
        return Response(_session_output(services.retro_session_close(session_id=session.pk)))


class RetroBoardApi(APIView):
    @extend_schema(
        tags=TAG,
        responses={200: s.RetroExportOutput, 409: OpenApiResponse(description="board_hidden")},
        summary="The board: the published shared cards by prompt and category, shuffled, "
        "scrubbed; reading publishes the submissions since the last batch if at least k "
        "(409 before the first batch)",
    )
    def get(self, request: Request, session_id: int) -> Response:
        session = selectors.retro_session_get_runnable(user=request.user, session_id=session_id)
        document = board.retro_document(session=session, with_cards=True)
        return Response(document_data(document))


class RetroExportApi(APIView):
    @extend_schema(
        tags=TAG,
        parameters=[s.RetroExportQuery],
        responses={
            (200, "text/markdown"): OpenApiTypes.STR,
            (200, "text/csv"): OpenApiTypes.STR,
            (200, "application/json"): s.RetroExportOutput,
            400: error("prompts: only `only` is known"),
            409: OpenApiResponse(description="board_hidden: cards asked for, none published"),
        },
        summary="Download the prompts, or the prompts with the shared cards, as md, csv or json",
    )
    def get(self, request: Request, session_id: int, export_format: str) -> HttpResponse:
        if export_format not in FORMATS:
            raise Http404
        session = selectors.retro_session_get_runnable(user=request.user, session_id=session_id)
        query = s.RetroExportQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        prompts_only = query.validated_data.get("prompts") == "only"
        document = board.retro_document(session=session, with_cards=not prompts_only)
        return HttpResponse(
            document_render(document, export_format), content_type=CONTENT_TYPES[export_format]
        )


def _retro_form(invitation: RetroInvitation) -> dict[str, Any]:
    return {
        "session": invitation.session,
        "prompts": invitation.session.prompts.all(),
        "categories": s.choices(TaskCategory),
        "effects": s.choices(CardEffect),
    }


def _submit(invitation: RetroInvitation, request: Request) -> Response:
    payload = s.RetroSubmissionInput(data=request.data)
    payload.is_valid(raise_exception=True)
    cards = payload.validated_data["cards"]
    services.retro_response_submit(invitation=invitation, cards=cards)
    # All or nothing: every card sent was stored (sealed until it is published).
    return Response({"status": "recorded", "cards": len(cards)}, status=status.HTTP_201_CREATED)


class RetroInvitationApi(LinkApiView):
    """The single-use retro link's API twin: no login; the token is the credential."""

    @extend_schema(
        tags=TAG,
        responses={200: s.RetroFormOutput, **LINK_ERRORS},
        summary="The prompts behind a retro link",
    )
    def get(self, request: Request, token: str) -> Response:
        invitation = services.retro_invitation_redeem(raw_token=token)
        return Response(s.RetroFormOutput(_retro_form(invitation)).data)


class RetroInvitationSubmissionApi(LinkApiView):
    @extend_schema(
        tags=TAG,
        request=s.RetroSubmissionSchema,
        responses={201: s.RetroSubmissionOutput, **LINK_ERRORS},
        summary="Write your anonymous cards with a retro link's token (once)",
    )
    def post(self, request: Request, token: str) -> Response:
        return _submit(services.retro_invitation_redeem(raw_token=token), request)


@method_decorator(never_cache, name="dispatch")
class MyRetroListApi(APIView):
    @extend_schema(
        tags=TAG,
        responses=s.RetroSessionOutput(many=True),
        summary="Retros waiting for your cards",
    )
    def get(self, request: Request) -> Response:
        invitations = selectors.retro_invitations_open_for(user=request.user)
        sessions = selectors.retro_sessions_listed(
            team_ids=invitations.values_list("session__team_id", flat=True)
        ).filter(pk__in=invitations.values_list("session_id", flat=True))
        return Response(s.RetroSessionOutput(sessions.prefetch_related("prompts"), many=True).data)


def _my_invitation(request: Request, session_id: int) -> RetroInvitation:
    return own_invitation(
        selectors.retro_invitations_open_for(user=request.user), session_id=session_id
    )


@method_decorator(never_cache, name="dispatch")
class MyRetroApi(APIView):
    @extend_schema(
        tags=TAG, responses=s.RetroFormOutput, summary="The prompts of one of your retros"
    )
    def get(self, request: Request, session_id: int) -> Response:
        return Response(s.RetroFormOutput(_retro_form(_my_invitation(request, session_id))).data)

    @extend_schema(
        tags=TAG,
        request=s.RetroSubmissionSchema,
        responses={201: s.RetroSubmissionOutput, **LINK_ERRORS},
        summary="Write your anonymous cards for one of your retros (once)",
    )
    def post(self, request: Request, session_id: int) -> Response:
        return _submit(_my_invitation(request, session_id), request)


class RetroPromptListApi(APIView):
    @extend_schema(
        tags=TAG,
        responses=s.RetroPromptOutput(many=True),
        summary="The prompt library: built-in prompts and your organisations' own",
    )
    def get(self, request: Request) -> Response:
        prompts = selectors.retro_prompts_for(
            organisation_ids=organisation_ids_of(user=request.user)
        )
        return Response(s.RetroPromptOutput(prompts, many=True).data)

    @extend_schema(
        tags=TAG,
        request=s.RetroPromptCreateInput,
        responses={201: s.RetroPromptOutput, 404: TEAM_NOT_FOUND},
        summary="Add a prompt of your own to the library (those who run the team's retros)",
    )
    def post(self, request: Request) -> Response:
        payload = s.RetroPromptCreateInput(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        team = team_get_runnable(user=request.user, slug=data.pop("team"))
        prompt = services.retro_prompt_create(team=team, created_by=request.user, **data)
        return Response(s.RetroPromptOutput(prompt).data, status=status.HTTP_201_CREATED)


class RetroPromptSetListApi(APIView):
    @extend_schema(
        tags=TAG,
        responses=s.RetroPromptSetOutput(many=True),
        summary="Reusable prompt sets of your organisations",
    )
    def get(self, request: Request) -> Response:
        prompt_sets = selectors.retro_prompt_sets_for(
            organisation_ids=organisation_ids_of(user=request.user)
        )
        return Response(s.RetroPromptSetOutput(prompt_sets, many=True).data)

    @extend_schema(
        tags=TAG,
        request=s.RetroPromptSetCreateInput,
        responses={201: s.RetroPromptSetOutput, 404: TEAM_NOT_FOUND},
        summary="Save prompts, in order, as a named set (those who run the team's retros)",
    )
    def post(self, request: Request) -> Response:
        payload = s.RetroPromptSetCreateInput(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        team = team_get_runnable(user=request.user, slug=data["team"])
        prompt_set = services.retro_prompt_set_create(
            team=team, created_by=request.user, name=data["name"], prompt_ids=data["prompts"]
        )
        return Response(s.RetroPromptSetOutput(prompt_set).data, status=status.HTTP_201_CREATED)


class TeamRetroHeatmapApi(APIView):
    @extend_schema(
        tags=TAG,
        responses=s.RetroHeatmapOutput,
        summary="Where AI helps us: helped / hurt / chose-not per task category over the "
        "team's last closed retros (nothing under k; totals add up shown cells only)",
    )
    def get(self, request: Request, slug: str) -> Response:
        heatmap = selectors.retro_heatmap(team=team_get_visible(user=request.user, slug=slug))
        return Response(s.RetroHeatmapOutput(heatmap).data)
