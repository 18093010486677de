"""Storing pull requests (from a gh JSON file or the GitHub API): one transaction per
batch, keyed by (repository, number), so a re-import updates and never duplicates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from analytics.delivery.git.attribution import Rule
from analytics.delivery.git.github import GitHubClient, GitHubError
from analytics.delivery.git.pulls import ParsedPullRequest
from analytics.delivery.models import AiAttributionRule, Contributor, PullRequest, Repository

GITHUB_BATCH = 100
FIELDS = (
    "title",
    "author_id",
    "created_at",
    "merged_at",
    "closed_at",
    "first_review_at",
    "review_count",
    "additions",
    "deletions",
    "changed_files",
    "base_ref",
    "head_ref",
    "merge_commit_sha",
    "labels",
    "ai_tool",
)


@dataclass(frozen=True)
class PullRequestImport:
    created: int
    updated: int


def _login_contributors(
    repository: Repository, pulls: Sequence[ParsedPullRequest]
) -> dict[str, int]:
    """Contributor ids by GitHub login; a login seen the first time becomes a contributor
    keyed by GitHub's no-reply address, for an admin to map to a person."""
    logins = {pr.author_login: pr.author_is_bot for pr in pulls}
    scope = Contributor.objects.filter(organisation_id=repository.organisation_id)
    known = dict(scope.filter(github_login__in=logins).values_list("github_login", "pk"))
    missing = [
        Contributor(
            organisation_id=repository.organisation_id,
            email=f"{login}@users.noreply.github.com".lower(),
            name=login,
            github_login=login,
            is_bot=is_bot,
        )
        for login, is_bot in logins.items()
        if login not in known
    ]
    Contributor.objects.bulk_create(missing, ignore_conflicts=True)
    return dict(scope.filter(github_login__in=logins).values_list("github_login", "pk"))


def pull_requests_store(
    *, repository_id: int, pulls: Sequence[ParsedPullRequest]
) -> PullRequestImport:
    """Create or update every pull request of the batch, all or nothing."""
    repository = Repository.objects.get(pk=repository_id)
    rules = [
        Rule(r.kind, r.pattern, r.tool)
        for r in AiAttributionRule.objects.filter(active=True)
        .filter(Q(organisation__isnull=True) | Q(organisation_id=repository.organisation_id))
        .order_by("pk")
    ]
    with transaction.atomic():
        authors = _login_contributors(repository, pulls)
        existing = {
            pr.number: pr
            for pr in PullRequest.objects.filter(
                repository=repository, number__in=[p.number for p in pulls]
            )
        }
        fresh, changed = [], []
        for parsed in pulls:
            values = {
                "title": parsed.title,
                "author_id": authors[parsed.author_login],
                "created_at": parsed.created_at,
                "merged_at": parsed.merged_at,
                "closed_at": parsed.closed_at,
                "first_review_at": parsed.first_review_at,
                "review_count": parsed.review_count,
                "additions": parsed.additions,
                "deletions": parsed.deletions,
                "changed_files": parsed.changed_files,
                "base_ref": parsed.base_ref[:250],
                "head_ref": parsed.head_ref[:250],
                "merge_commit_sha": parsed.merge_commit_sha[:40],
                "labels": list(parsed.labels),
                "ai_tool": parsed.ai_tool(rules),
            }
            current = existing.get(parsed.number)
            if current is None:
                fresh.append(PullRequest(repository=repository, number=parsed.number, **values))
            else:
                for field, value in values.items():
                    setattr(current, field, value)
                changed.append(current)
        PullRequest.objects.bulk_create(fresh, batch_size=500)
        PullRequest.objects.bulk_update(changed, FIELDS, batch_size=500)
    return PullRequestImport(created=len(fresh), updated=len(changed))


def github_pulls_sync(
    *, repository_id: int, client: GitHubClient | None = None
) -> PullRequestImport:
    """Fetch the pull requests updated since the last sync and store them, 100 per
    transaction; the sync time moves only once everything was stored."""
    repository = Repository.objects.get(pk=repository_id)
    if not repository.github_repository:
        raise GitHubError(f"{repository} has no GitHub repository (owner/name) set.")
    client = client or GitHubClient(base_url=settings.GITHUB_API_URL, token=settings.GITHUB_TOKEN)
    created = updated = 0
    newest = repository.github_synced_at
    batch: list[ParsedPullRequest] = []
    pulls = client.pull_requests(
        repository.github_repository, updated_since=repository.github_synced_at
    )
    for pull, updated_at in pulls:
        batch.append(pull)
        newest = max(newest or updated_at, updated_at)
        if len(batch) == GITHUB_BATCH:
            stored = pull_requests_store(repository_id=repository_id, pulls=batch)
            created, updated, batch = created + stored.created, updated + stored.updated, []
    if batch:
        stored = pull_requests_store(repository_id=repository_id, pulls=batch)
        created, updated = created + stored.created, updated + stored.updated
    Repository.objects.filter(pk=repository_id).update(github_synced_at=newest)
    return PullRequestImport(created=created, updated=updated)
