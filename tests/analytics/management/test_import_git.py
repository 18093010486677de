"""`manage.py import_git`: progress, a summary line, clear errors."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from analytics.delivery.models import Commit, Repository
from tests.factories import TeamFactory
from tests.gitrepos import awkward_repo, ground_truth

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path / "data"


def test_it_imports_and_prints_a_summary_with_the_rate(tmp_path: Path, capsys) -> None:
    repo = awkward_repo(tmp_path / "shop-api")
    team = TeamFactory(slug="payments")
    out = StringIO()
    call_command("import_git", str(repo.path), "--team", "payments", stdout=out)
    truth = ground_truth(repo.path)
    summary = out.getvalue()
    assert f"shop-api: {truth.commits} new of {truth.commits} commits read" in summary
    assert "commits/s" in summary
    assert "3 tags (2 releases)" in summary
    assert "commit" in capsys.readouterr().err  # the progress bar
    repository = Repository.objects.get(name="shop-api")
    assert repository.team == team
    assert Commit.objects.filter(repository=repository).count() == truth.commits


def test_running_it_again_adds_nothing(tmp_path: Path) -> None:
    repo = awkward_repo(tmp_path / "r")
    TeamFactory(slug="payments")
    call_command(
        "import_git", str(repo.path), "--team", "payments", "--no-progress", stdout=StringIO()
    )
    out = StringIO()
    call_command("import_git", str(repo.path), "--team", "payments", "--no-progress", stdout=out)
    assert "0 new of 0 commits read" in out.getvalue()


def test_an_unknown_team_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="No team with the slug 'nope'"):
        call_command("import_git", str(tmp_path), "--team", "nope")


def test_a_bad_repository_is_a_clear_error(tmp_path: Path) -> None:
    TeamFactory(slug="payments")
    with pytest.raises(CommandError, match="is not a Git repository"):
        call_command("import_git", str(tmp_path), "--team", "payments", "--no-progress")
