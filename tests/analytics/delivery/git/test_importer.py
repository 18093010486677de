"""Importing Git history: exact totals, incremental and idempotent, rewrites, bad input."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from django.db.models import Sum

from analytics.delivery.git import importer
from analytics.delivery.git.attribution import Rule, ai_tool
from analytics.delivery.git.parser import parse_stream
from analytics.delivery.git.repository import RepositoryError, log_blocks
from analytics.delivery.models import (
    AiAttributionRule,
    Commit,
    Contributor,
    ImportRun,
    Repository,
    Tag,
)
from tests.factories import TeamFactory
from tests.gitrepos import BASE_ENV, awkward_repo, ground_truth, repo_init

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path / "data"


def _repository(source: Path | str, **fields) -> Repository:
    team = TeamFactory()
    return Repository.objects.create(
        organisation=team.organisation, team=team, name="repo", source=str(source), **fields
    )


def _import(repository: Repository) -> ImportRun:
    return importer.repository_import(repository_id=repository.pk)


def _stored_totals(repository: Repository) -> tuple[int, int, int, int, int]:
    commits = Commit.objects.filter(repository=repository, reachable=True)
    sums = commits.aggregate(f=Sum("files_changed"), a=Sum("additions"), d=Sum("deletions"))
    return commits.count(), commits.filter(is_merge=True).count(), sums["f"], sums["a"], sums["d"]


def test_stored_totals_equal_git_log_numstat(tmp_path: Path) -> None:
    repo = awkward_repo(tmp_path / "awkward")
    repository = _repository(repo.path)
    run = _import(repository)
    truth = ground_truth(repo.path)
    assert run.status == ImportRun.Status.SUCCEEDED
    assert run.commits_added == run.commits_read == truth.commits
    assert _stored_totals(repository) == (
        truth.commits,
        truth.merges,
        truth.files,
        truth.additions,
        truth.deletions,
    )


def test_each_stored_commit_holds_what_git_log_says(tmp_path: Path) -> None:
    # Rows are inserted without the ORM's per-value preparation: read them back through it.
    repo = awkward_repo(tmp_path / "awkward")
    repository = _repository(repo.path)
    _import(repository)
    parsed = {c.sha: c for c in parse_stream(log_blocks(repo.path, "HEAD"))}
    stored = {
        c.sha: c for c in Commit.objects.filter(repository=repository).select_related("author")
    }
    assert stored.keys() == parsed.keys()
    for sha, commit in stored.items():
        truth = parsed[sha]
        assert commit.authored_at == truth.authored_at
        assert commit.committed_at == truth.committed_at
        assert commit.author.email == truth.author_email.lower()
        assert (commit.parent_count, commit.is_merge) == (len(truth.parents), truth.is_merge)
        assert commit.reverted_sha == (truth.reverted_sha or "")
        assert commit.reachable
    ordered = Commit.objects.filter(repository=repository).order_by("committed_at", "sha")
    assert [c.sha for c in ordered] == sorted(parsed, key=lambda s: (parsed[s].committed_at, s))


def test_reimporting_adds_nothing_and_reads_nothing(tmp_path: Path) -> None:
    repository = _repository(awkward_repo(tmp_path / "r").path)
    _import(repository)
    again = _import(repository)
    assert (again.commits_read, again.commits_added) == (0, 0)
    assert Commit.objects.count() == ground_truth(Path(repository.source)).commits


def test_a_reimport_reads_only_the_new_commits(tmp_path: Path) -> None:
    repo = awkward_repo(tmp_path / "r")
    repository = _repository(repo.path)
    _import(repository)
    repo.write("new.txt", "a\nb\n")
    repo.commit("One more")
    repo.commit("And another")
    run = _import(repository)
    assert (run.commits_read, run.commits_added, run.history_rewritten) == (2, 2, False)


def test_a_force_push_drops_commits_no_longer_on_the_branch(tmp_path: Path) -> None:
    repo = awkward_repo(tmp_path / "r")
    repository = _repository(repo.path)
    _import(repository)
    repo.run("reset", "-q", "--hard", "HEAD~2")
    repo.write("other.txt", "rewritten\n")
    repo.commit("Rewritten history")
    run = _import(repository)
    assert run.history_rewritten
    assert run.commits_dropped == 2
    assert run.commits_added == 1
    truth = ground_truth(repo.path)
    assert _stored_totals(repository)[0] == truth.commits
    assert Commit.objects.filter(repository=repository, reachable=False).count() == 2


def test_ai_assisted_commits_record_their_tool(tmp_path: Path) -> None:
    repository = _repository(awkward_repo(tmp_path / "r").path)
    _import(repository)
    tools = dict(Commit.objects.exclude(ai_tool="").values_list("sha", "ai_tool"))
    assert sorted(tools.values()) == ["claude", "claude-code"]


SAMPLES = {
    "co-authored-by: claude": {"message": "Fix\n\nCo-authored-by: Claude <noreply@anthropic.com>"},
    "co-authored-by: copilot": {"message": "Fix\n\nCo-Authored-By: Copilot <copilot@github.com>"},
    "co-authored-by: cursor": {
        "message": "Fix\n\nco-authored-by: Cursor Agent <cursoragent@cursor.com>"
    },
    "co-authored-by: codex": {"message": "Fix\n\nCo-authored-by: Codex <codex@openai.com>"},
    "@aider.chat": {"message": "Fix\n\nCo-authored-by: aider (gpt-4o) <noreply@aider.chat>"},
    "made-with: cursor": {"message": "Fix\n\nMade-with: Cursor"},
    "generated with claude code": {
        "message": "Fix\n\n🤖 Generated with [Claude Code](https://claude.ai)"
    },
    " (aider)": {"message": "Fix", "author_name": "Paul Gauthier (aider)"},
    "copilot-swe-agent[bot]": {"message": "Fix", "author_name": "copilot-swe-agent[bot]"},
}


@pytest.mark.parametrize("pattern", sorted(SAMPLES))
def test_every_seeded_attribution_string_is_recognised(pattern: str) -> None:
    rule = AiAttributionRule.objects.get(organisation=None, pattern=pattern)
    sample = {
        "author_name": "Dev",
        "author_email": "dev@example.com",
        "trailers": (),
        **SAMPLES[pattern],
    }
    assert ai_tool([Rule(rule.kind, rule.pattern, rule.tool)], **sample) == rule.tool
    plain = {**sample, "message": "Fix the build", "author_name": "Dev"}
    assert ai_tool([Rule(rule.kind, rule.pattern, rule.tool)], **plain) == ""


def test_the_seeded_rules_cover_every_design_string() -> None:
    assert set(
        AiAttributionRule.objects.filter(organisation=None).values_list("pattern", flat=True)
    ) == set(SAMPLES)


def test_an_admins_own_rule_is_applied(tmp_path: Path) -> None:
    repo = repo_init(tmp_path / "r")
    repo.write("a.txt", "a\n")
    repo.commit("Add a\n\nAssisted-by: Gemini")
    repository = _repository(repo.path)
    AiAttributionRule.objects.create(
        organisation=repository.organisation,
        kind="trailer",
        pattern="assisted-by: gemini",
        tool="gemini",
    )
    _import(repository)
    assert Commit.objects.get().ai_tool == "gemini"


def test_release_tags_are_recognised_by_pattern(tmp_path: Path) -> None:
    repository = _repository(awkward_repo(tmp_path / "r").path)
    _import(repository)
    tags = dict(Tag.objects.values_list("name", "is_release"))
    assert tags == {"v1.0.0": True, "v1.1.0": True, "nightly-build": False}
    annotated = Tag.objects.get(name="v1.1.0")
    assert Commit.objects.filter(sha=annotated.target_sha).exists()


def test_mailmap_merges_identities_and_bots_are_classified_apart(tmp_path: Path) -> None:
    repo = repo_init(tmp_path / "r")
    repo.write("a.txt", "1\n")
    repo.commit("one", author=("Bob", "bob@old.example"))
    repo.write("a.txt", "2\n")
    repo.commit("two", author=("Robert", "bob@example.com"))
    repo.write("a.txt", "3\n")
    repo.commit(
        "bump", author=("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com")
    )
    repo.write(".mailmap", "Robert <bob@example.com> <bob@old.example>\n")
    repo.commit("Add mailmap", author=("Robert", "bob@example.com"))
    _import(_repository(repo.path))
    contributors = {c.email: c for c in Contributor.objects.all()}
    assert set(contributors) == {
        "bob@example.com",
        "49699333+dependabot[bot]@users.noreply.github.com",
    }
    assert contributors["49699333+dependabot[bot]@users.noreply.github.com"].is_bot
    assert contributors["bob@example.com"].user is None  # listed for the admin to map


def _fails_with(repository: Repository, message: str) -> None:
    with pytest.raises(RepositoryError, match=message):
        _import(repository)
    run = ImportRun.objects.get(repository=repository)
    assert run.status == ImportRun.Status.FAILED
    assert message.split()[0].lower() in run.error.lower() or run.error
    assert not Commit.objects.exists()


def test_a_path_that_is_not_a_repository_is_refused(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    _fails_with(_repository(tmp_path / "plain"), "is not a Git repository")


def test_a_missing_path_is_refused(tmp_path: Path) -> None:
    _fails_with(_repository(tmp_path / "nowhere"), "does not exist")


def test_an_empty_repository_is_refused(tmp_path: Path) -> None:
    _fails_with(_repository(repo_init(tmp_path / "empty").path), "empty repository")


def test_a_shallow_clone_is_refused_saying_what_is_missing(tmp_path: Path) -> None:
    source = awkward_repo(tmp_path / "full")
    shallow = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "2", f"file://{source.path}", str(shallow)],
        check=True,
        env={**BASE_ENV, "PATH": "/usr/bin:/bin"},
    )
    _fails_with(_repository(shallow), "shallow clone: history before")


def test_a_detached_head_asks_for_a_branch(tmp_path: Path) -> None:
    repo = awkward_repo(tmp_path / "r")
    repo.run("checkout", "-q", "--detach", "HEAD~1")
    _fails_with(_repository(repo.path), "detached HEAD")
    imported = _import(_repository_named(repo.path, ref="main"))
    assert imported.status == ImportRun.Status.SUCCEEDED


def _repository_named(source: Path, **fields) -> Repository:
    existing = Repository.objects.get()
    return Repository.objects.create(
        organisation=existing.organisation,
        team=existing.team,
        name="repo-main",
        source=str(source),
        **fields,
    )


def test_a_url_is_mirrored_into_the_data_directory_and_fetched_again(
    tmp_path: Path, settings
) -> None:
    repo = awkward_repo(tmp_path / "origin")
    repository = _repository(f"file://{repo.path}")
    _import(repository)
    assert (Path(settings.DATA_DIR) / "repositories" / f"{repository.pk}.git").is_dir()
    repo.write("later.txt", "x\n")
    repo.commit("Later")
    assert _import(repository).commits_added == 1


def test_a_failed_batch_keeps_earlier_batches_and_a_rerun_completes(
    tmp_path: Path, monkeypatch
) -> None:
    repo = awkward_repo(tmp_path / "r")
    repository = _repository(repo.path)
    monkeypatch.setattr(importer, "BATCH_SIZE", 4)
    real_store = importer._commits_store
    calls = []

    def failing_store(repository, batch, rules):
        calls.append(len(batch))
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real_store(repository, batch, rules)

    monkeypatch.setattr(importer, "_commits_store", failing_store)
    with pytest.raises(RuntimeError):
        _import(repository)
    assert Commit.objects.count() == 4  # the first batch, whole; nothing of the second
    assert ImportRun.objects.get().status == ImportRun.Status.FAILED
    monkeypatch.setattr(importer, "_commits_store", real_store)
    _import(repository)
    assert Commit.objects.count() == ground_truth(repo.path).commits


def test_each_commit_knows_the_first_release_that_shipped_it(tmp_path: Path) -> None:
    repo = awkward_repo(tmp_path / "r")
    repository = _repository(repo.path)
    _import(repository)
    v100 = Tag.objects.get(name="v1.0.0")
    v110 = Tag.objects.get(name="v1.1.0")
    by_subject_count = {
        v100.tagged_at: int(repo.run("rev-list", "--count", "v1.0.0")),
        v110.tagged_at: int(repo.run("rev-list", "--count", "v1.0.0..v1.1.0")),
    }
    for when, expected in by_subject_count.items():
        assert Commit.objects.filter(repository=repository, deployed_at=when).count() == expected
    unreleased = int(repo.run("rev-list", "--count", "v1.1.0..HEAD"))
    assert Commit.objects.filter(repository=repository, deployed_at=None).count() == unreleased


def test_an_identity_whose_email_one_user_has_is_mapped_to_that_person(tmp_path: Path) -> None:
    from tests.factories import UserFactory

    repo = repo_init(tmp_path / "r")
    repo.write("a.txt", "1\n")
    repo.commit("one", author=("Bob", "Bob@Example.com"))
    repo.write("a.txt", "2\n")
    repo.commit("two", author=("Twin", "twin@example.com"))
    bob = UserFactory(username="bob", email="bob@example.com")
    UserFactory(username="twin1", email="twin@example.com")
    UserFactory(username="twin2", email="TWIN@example.com")
    _import(_repository(repo.path))
    assert Contributor.objects.get(email="bob@example.com").user == bob
    assert (
        Contributor.objects.get(email="twin@example.com").user is None
    )  # ambiguous: left to the admin


def _fast_import(path: Path, stream: bytes) -> None:
    subprocess.run(
        ["git", "init", "-q", "-b", "main", str(path)],
        check=True,
        env={**BASE_ENV, "PATH": "/usr/bin:/bin"},
    )
    subprocess.run(
        ["git", "-C", str(path), "fast-import", "--quiet"],
        input=stream,
        check=True,
        env={**BASE_ENV, "PATH": "/usr/bin:/bin"},
    )


def test_a_commit_touching_100_000_files_is_imported_whole(tmp_path: Path) -> None:
    files = 100_000
    lines = [b"blob\nmark :1\ndata 2\nx\n", b"commit refs/heads/main\nmark :2\n"]
    stamp = b"Big <big@example.com> 1767000000 +0000"
    lines.append(b"author " + stamp + b"\ncommitter " + stamp + b"\n")
    lines.append(b"data 8\nHuge one\n")
    lines.extend(b"M 100644 :1 d%03d/f%06d.txt\n" % (n % 997, n) for n in range(files))
    _fast_import(tmp_path / "big", b"".join(lines) + b"\n")
    repository = _repository(tmp_path / "big")
    run = _import(repository)
    assert run.commits_added == 1
    commit = Commit.objects.get()
    assert (commit.files_changed, commit.additions, commit.deletions) == (files, files, 0)


def test_a_raw_latin1_author_name_without_an_encoding_header_is_kept_readable(
    tmp_path: Path,
) -> None:
    name = "Zoë".encode("latin-1")
    stream = (
        b"commit refs/heads/main\nmark :1\n"
        b"author " + name + b" <zoe@example.com> 1767000000 +0000\n"
        b"committer " + name + b" <zoe@example.com> 1767000000 +0000\n"
        b"data 10\nCaf\xe9 cr\xe8me\nM 100644 inline a.txt\ndata 2\na\n\n"
    )
    _fast_import(tmp_path / "latin", stream)
    _import(_repository(tmp_path / "latin"))
    contributor = Contributor.objects.get()
    assert contributor.name == "Zo\ufffd"  # the undecodable byte is replaced, the rest kept
    assert Commit.objects.count() == 1
