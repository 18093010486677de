"""The `git` command, run as a subprocess: checks on a repository and one streaming log.

Every function takes the repository path; nothing here touches the database.
"""

from __future__ import annotations

import queue
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from analytics.delivery.git.parser import LOG_FORMAT

BLOCK_SIZE = 1 << 16
# Blocks read ahead of the importer, so git keeps writing while a batch is stored (4 MiB).
READ_AHEAD_BLOCKS = 64
# Deterministic output whatever the user's git configuration says.
GIT = ("git", "-c", "log.showSignature=false", "-c", "core.quotePath=false", "-c", "color.ui=never")


class RepositoryError(Exception):
    """A repository that cannot be imported, with a message for the person importing it."""


def git(path: Path | str, *args: str) -> str:
    result = subprocess.run(  # noqa: S603 — fixed argv, no shell
        [*GIT, "-C", str(path), *args], capture_output=True, check=False
    )
    if result.returncode != 0:
        raise RepositoryError(
            result.stderr.decode("utf-8", "replace").strip() or f"git {args[0]} failed"
        )
    return result.stdout.decode("utf-8", "replace").strip()


def repository_check(path: Path | str, ref: str | None = None) -> str:
    """The full sha of the ref to import (default: the checked-out branch), after checking
    that the path is a non-empty, complete repository. Raises RepositoryError otherwise."""
    if not Path(path).exists():
        raise RepositoryError(f"{path} does not exist.")
    try:
        git(path, "rev-parse", "--git-dir")
    except RepositoryError:
        raise RepositoryError(f"{path} is not a Git repository.") from None
    if git(path, "rev-parse", "--is-shallow-repository") == "true":
        boundary = git(path, "rev-parse", "--shallow-file")
        raise RepositoryError(
            f"{path} is a shallow clone: history before its oldest fetched commit is missing "
            f"(see {boundary}). Run 'git fetch --unshallow' there, or give a full clone."
        )
    if ref is None:
        try:
            ref = git(path, "symbolic-ref", "--quiet", "HEAD")
        except RepositoryError:
            try:
                git(path, "rev-parse", "--verify", "--quiet", "HEAD")
            except RepositoryError:
                raise RepositoryError(
                    f"{path} is an empty repository: it has no commits."
                ) from None
            raise RepositoryError(
                f"{path} has a detached HEAD; name the branch to import (--ref main)."
            ) from None
    try:
        return git(path, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except RepositoryError:
        if ref.startswith("refs/heads/"):
            raise RepositoryError(f"{path} is an empty repository: {ref} has no commits.") from None
        raise RepositoryError(f"{path} has no branch or commit called {ref!r}.") from None


def commit_count(path: Path | str, revisions: str) -> int:
    return int(git(path, "rev-list", "--count", revisions) or 0)


def is_ancestor(path: Path | str, older: str, newer: str) -> bool:
    result = subprocess.run(  # noqa: S603
        [*GIT, "-C", str(path), "merge-base", "--is-ancestor", older, newer],
        capture_output=True,
        check=False,
    )
    return result.returncode == 0


def reachable_shas(path: Path | str, tip: str) -> Iterator[str]:
    with subprocess.Popen(  # noqa: S603
        [*GIT, "-C", str(path), "rev-list", tip], stdout=subprocess.PIPE
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            yield line.decode("ascii").strip()


def first_releases(path: Path | str, targets: list[str]) -> Iterator[tuple[int, list[str]]]:
    """For release targets in chronological order: (index, the commits it was the first to
    contain). One `git rev-list` per release, told to stop at every earlier release."""
    for index, target in enumerate(targets):
        spec = "\n".join([target, *(f"^{earlier}" for earlier in targets[:index])]) + "\n"
        result = subprocess.run(  # noqa: S603
            [*GIT, "-C", str(path), "rev-list", "--stdin"],
            input=spec.encode(),
            capture_output=True,
            check=False,
        )
        if result.returncode != 0:
            raise RepositoryError(result.stderr.decode("utf-8", "replace").strip())
        yield index, result.stdout.decode("ascii").split()


def log_blocks(path: Path | str, revisions: str) -> Iterator[bytes]:
    """The raw output of one `git log` over `revisions`, in blocks; raises on failure."""
    args = [
        *GIT,
        "-C",
        str(path),
        "log",
        "-z",
        "--numstat",
        "--find-renames",
        f"--format={LOG_FORMAT}",
    ]
    # stderr goes to a file: a pipe nobody reads until the end could fill and stall git.
    with (
        tempfile.TemporaryFile() as errors,
        subprocess.Popen(  # noqa: S603
            [*args, revisions, "--"], stdout=subprocess.PIPE, stderr=errors
        ) as process,
    ):
        yield from _read_ahead(process)
        if process.wait() != 0:
            errors.seek(0)
            raise RepositoryError(
                errors.read().decode("utf-8", "replace").strip() or "git log failed"
            )


def _read_ahead(process: subprocess.Popen[bytes]) -> Iterator[bytes]:
    """The process's stdout in blocks, read by a thread up to READ_AHEAD_BLOCKS ahead.

    Without it git stops whenever the 64 KiB pipe is full, i.e. for as long as the
    importer stores a batch; with it git's work and the database's overlap. A consumer
    that stops early kills the process, and the thread ends with it.
    """
    stdout = process.stdout
    assert stdout is not None
    blocks: queue.Queue[bytes | None] = queue.Queue(maxsize=READ_AHEAD_BLOCKS)

    def read() -> None:
        try:
            while block := stdout.read(BLOCK_SIZE):
                blocks.put(block)
        finally:
            blocks.put(None)

    reader = threading.Thread(target=read, name="git-log-reader", daemon=True)
    reader.start()
    finished = False
    try:
        while (block := blocks.get()) is not None:
            yield block
        finished = True
    finally:
        if not finished:
            process.kill()
            while blocks.get() is not None:  # unblock the reader until it sees the end
                pass
        reader.join()


@dataclass(frozen=True)
class ParsedTag:
    name: str
    target_sha: str
    tagged_at: datetime


def tags(path: Path | str) -> list[ParsedTag]:
    """Every tag that points (possibly through an annotated tag) at a commit."""
    output = git(
        path,
        "for-each-ref",
        "refs/tags",
        "--format=%(refname:short)%00%(objectname)%00%(*objectname)%00%(*objecttype)%00%(objecttype)"
        "%00%(creatordate:iso-strict)",
    )
    found = []
    for line in output.splitlines():
        name, direct, peeled, peeled_type, own_type, date = line.split("\x00")
        target = peeled if peeled_type == "commit" else direct if own_type == "commit" else ""
        if target and date:
            found.append(
                ParsedTag(name=name, target_sha=target, tagged_at=datetime.fromisoformat(date))
            )
    return found
