"""The streaming `git log` parser against ground truth and odd input."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.delivery.git import repository
from analytics.delivery.git.parser import GitLogFormatError, parse_stream
from analytics.delivery.git.repository import log_blocks
from tests.gitrepos import awkward_repo, ground_truth


@pytest.fixture(scope="module")
def awkward(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return awkward_repo(tmp_path_factory.mktemp("awkward") / "repo").path


def test_totals_equal_git_log_numstat_exactly(awkward: Path) -> None:
    commits = list(parse_stream(log_blocks(awkward, "HEAD")))
    truth = ground_truth(awkward)
    assert len(commits) == truth.commits
    assert sum(c.is_merge for c in commits) == truth.merges
    assert sum(c.files_changed for c in commits) == truth.files
    assert sum(c.additions for c in commits) == truth.additions
    assert sum(c.deletions for c in commits) == truth.deletions


def test_each_field_of_a_commit_is_read(awkward: Path) -> None:
    commits = {c.subject: c for c in parse_stream(log_blocks(awkward, "HEAD"))}
    unicode = commits["Ajoute des données — é ✓ 🚀"]
    assert unicode.author_name == "Zoë Ångström"
    assert unicode.authored_at.utcoffset() is not None
    assert commits["Add a binary logo"].files_changed == 1
    assert commits["Add a binary logo"].additions == 0
    assert commits["An empty commit"].files_changed == 0
    assert commits["Merge pull request #1 from feature"].is_merge
    revert = next(c for c in commits.values() if c.subject.startswith("Revert"))
    assert revert.is_revert
    assert commits["Change the answer"].sha.startswith(revert.reverted_sha or "-")
    assert ("Co-authored-by", "Claude <noreply@anthropic.com>") in commits["Add feature"].trailers
    assert "Café crème, naïve façade" in commits  # latin-1 with an encoding header


def test_a_rename_with_an_edit_counts_once(awkward: Path) -> None:
    commits = {c.subject: c for c in parse_stream(log_blocks(awkward, "HEAD"))}
    renamed = commits["Rename app to main and add a line"]
    assert (renamed.files_changed, renamed.additions, renamed.deletions) == (1, 1, 0)


def test_blocks_of_any_size_give_the_same_commits(awkward: Path) -> None:
    raw = b"".join(log_blocks(awkward, "HEAD"))
    whole = list(parse_stream([raw]))
    for size in (1, 7, 4096):
        pieces = [raw[i : i + size] for i in range(0, len(raw), size)]
        assert list(parse_stream(pieces)) == whole


def test_an_empty_stream_has_no_commits() -> None:
    assert list(parse_stream([])) == []


@pytest.mark.parametrize("stream", [b"hello", b"\x1enot-a-sha\x00", b"junk\x1e" + b"a" * 40])
def test_a_foreign_stream_is_a_format_error(stream: bytes) -> None:
    with pytest.raises(GitLogFormatError):
        list(parse_stream([stream]))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_fuzzed_bytes_parse_or_raise_a_format_error_only(stream: bytes) -> None:
    with contextlib.suppress(GitLogFormatError):
        list(parse_stream([stream]))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=30), min_size=10, max_size=14))
def test_fuzzed_commit_records_parse_or_raise_a_format_error_only(fields: list[bytes]) -> None:
    record = b"\x1e" + b"a" * 40 + b"\x00" + b"\x00".join(fields)
    with contextlib.suppress(GitLogFormatError):
        list(parse_stream([record]))


def test_a_reader_that_stops_early_ends_git_and_the_read_ahead_thread(
    awkward: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tiny blocks and a one-block queue: the reader thread is blocked on a full queue
    # when the consumer walks away, the case that would otherwise hang it for good.
    monkeypatch.setattr(repository, "BLOCK_SIZE", 8)
    monkeypatch.setattr(repository, "READ_AHEAD_BLOCKS", 1)
    blocks = log_blocks(awkward, "HEAD")
    first = next(blocks)
    blocks.close()
    assert first
    assert not [t for t in threading.enumerate() if t.name == "git-log-reader"]


def test_read_ahead_gives_the_same_bytes_as_a_plain_read(
    awkward: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = b"".join(log_blocks(awkward, "HEAD"))
    monkeypatch.setattr(repository, "BLOCK_SIZE", 5)
    monkeypatch.setattr(repository, "READ_AHEAD_BLOCKS", 2)
    assert b"".join(log_blocks(awkward, "HEAD")) == whole
