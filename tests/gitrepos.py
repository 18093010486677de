"""Generated Git repositories with awkward histories, made with the real `git` command."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

BASE_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_SYSTEM": os.devnull,
    "GIT_AUTHOR_NAME": "Ada Lovelace",
    "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Ada Lovelace",
    "GIT_COMMITTER_EMAIL": "ada@example.com",
}


@dataclass
class Repo:
    path: Path
    clock: int = 1_767_000_000  # 2025-12-29

    def run(self, *args: str, env: dict[str, str] | None = None, stdin: bytes | None = None) -> str:
        merged = {**os.environ, **BASE_ENV, **(env or {})}
        result = subprocess.run(
            ["git", "-C", str(self.path), *args],
            env=merged,
            input=stdin,
            capture_output=True,
            check=True,
        )
        return result.stdout.decode("utf-8", "replace").strip()

    def write(self, name: str, content: str | bytes) -> None:
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")

    def commit(
        self, message: str, *, author: tuple[str, str] | None = None, hours: int = 5, **flags: str
    ) -> str:
        self.clock += hours * 3600
        stamp = f"@{self.clock} +0100"
        env = {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
        if author:
            env |= {"GIT_AUTHOR_NAME": author[0], "GIT_AUTHOR_EMAIL": author[1]}
        self.run("add", "-A")
        self.run("commit", "-q", "--allow-empty", "-F", "-", env=env, stdin=message.encode())
        return self.run("rev-parse", "HEAD")


def repo_init(path: Path) -> Repo:
    path.mkdir(parents=True, exist_ok=True)
    repo = Repo(path)
    repo.run("init", "-q", "-b", "main")
    return repo


def awkward_repo(path: Path) -> Repo:
    """Merges, renames, binary files, an empty commit, unicode, a latin-1 message, a
    revert, AI trailers and tags (lightweight, annotated, non-release)."""
    repo = repo_init(path)
    repo.write("README.md", "hello\nworld\n")
    repo.write("src/app.py", "".join(f"line {i}\n" for i in range(40)))
    repo.commit("Initial commit")
    repo.write("données/été.txt", "unicode path ✓\n")
    repo.commit("Ajoute des données — é ✓ 🚀", author=("Zoë Ångström", "zoe@example.com"))
    repo.write("logo.png", bytes(range(256)) * 20)
    repo.commit("Add a binary logo")
    repo.run("mv", "src/app.py", "src/main.py")
    repo.write("src/main.py", "".join(f"line {i}\n" for i in range(41)))
    repo.commit("Rename app to main and add a line")
    repo.commit("An empty commit")
    repo.run("tag", "v1.0.0")
    repo.run("checkout", "-q", "-b", "feature")
    repo.write("src/feature.py", "def feature():\n    return 42\n")
    repo.commit(
        "Add feature\n\nWritten with help.\n\nCo-authored-by: Claude <noreply@anthropic.com>\n",
        author=("Bob", "bob@example.com"),
    )
    repo.write("src/feature.py", "def feature():\n    return 43\n")
    bad = repo.commit("Change the answer", author=("Bob", "bob@example.com"))
    repo.run("checkout", "-q", "main")
    repo.write("README.md", "hello\nworld\nagain\n")
    repo.commit("Touch README on main")
    repo.clock += 3600
    stamp = f"@{repo.clock} +0100"
    repo.run(
        "merge",
        "-q",
        "--no-ff",
        "feature",
        "-m",
        "Merge pull request #1 from feature",
        env={"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp},
    )
    repo.run(
        "revert", "--no-edit", bad, env={"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    )
    repo.clock += 3600
    repo.run(
        "tag",
        "-a",
        "v1.1.0",
        "-m",
        "Release 1.1.0",
        env={"GIT_COMMITTER_DATE": f"@{repo.clock} +0100"},
    )
    repo.run("tag", "nightly-build")
    latin1 = "Café crème, naïve façade".encode("latin-1")
    repo.clock += 3600
    stamp = f"@{repo.clock} +0100"
    repo.write("menu.txt", "café\n")
    repo.run("add", "-A")
    repo.run(
        "-c",
        "i18n.commitEncoding=ISO-8859-1",
        "commit",
        "-q",
        "-F",
        "-",
        env={"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp},
        stdin=latin1,
    )
    repo.write("gen.py", "x = 1\n")
    repo.commit(
        "Generate scaffolding\n\n🤖 Generated with Claude Code\n",
        author=("Carol (aider)", "carol@example.com"),
    )
    return repo


@dataclass(frozen=True)
class Totals:
    commits: int
    merges: int
    files: int
    additions: int
    deletions: int


def ground_truth(path: Path, revisions: str = "HEAD") -> Totals:
    """Totals from plain `git log --numstat`, parsed independently of Candor's parser."""
    env = {**os.environ, **BASE_ENV}
    out = subprocess.run(
        ["git", "-C", str(path), "log", "--numstat", "--format=%x01%H %P", revisions],
        capture_output=True,
        check=True,
        env=env,
    ).stdout.decode("utf-8", "replace")
    commits = merges = files = additions = deletions = 0
    for line in out.splitlines():
        if line.startswith("\x01"):
            commits += 1
            merges += len(line[1:].split()) > 2
        elif "\t" in line:
            plus, minus, _ = line.split("\t", 2)
            files += 1
            if plus != "-":
                additions += int(plus)
                deletions += int(minus)
    return Totals(commits, merges, files, additions, deletions)
