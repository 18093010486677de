"""The AI attribution strings of docs/DESIGN.md §5, as data an admin can extend."""

from __future__ import annotations

from django.db import migrations

RULES = [
    ("trailer", "co-authored-by: claude", "claude"),
    ("trailer", "co-authored-by: copilot", "copilot"),
    ("trailer", "co-authored-by: cursor", "cursor"),
    ("trailer", "co-authored-by: codex", "codex"),
    ("trailer", "@aider.chat", "aider"),
    ("trailer", "made-with: cursor", "cursor"),
    ("message", "generated with claude code", "claude-code"),
    ("author", " (aider)", "aider"),
    ("author", "copilot-swe-agent[bot]", "copilot-agent"),
]


def seed(apps, schema_editor):
    Rule = apps.get_model("analytics", "AiAttributionRule")
    for kind, pattern, tool in RULES:
        Rule.objects.get_or_create(organisation=None, kind=kind, pattern=pattern, defaults={"tool": tool})


def unseed(apps, schema_editor):
    Rule = apps.get_model("analytics", "AiAttributionRule")
    for kind, pattern, _ in RULES:
        Rule.objects.filter(organisation=None, kind=kind, pattern=pattern).delete()


class Migration(migrations.Migration):
    dependencies = [("analytics", "0002_git_history")]
    operations = [migrations.RunPython(seed, unseed)]
