"""Seed the four built-in retro prompts (issue 5). Data lives here, frozen with the
migration, so later code changes never alter what an old database was seeded with."""

from __future__ import annotations

from django.db import migrations

PROMPTS = [
    {
        "key": "ai-helped",
        "text": "When did AI help you this sprint?",
        "suggested_effect": "helped",
    },
    {
        "key": "ai-hurt",
        "text": "When did it hurt or slow you down?",
        "suggested_effect": "hurt",
    },
    {
        "key": "ai-chose-not",
        "text": "What did you choose not to use it for, and why?",
        "suggested_effect": "chose_not",
    },
    {
        "key": "ai-advice",
        "text": "What would you tell a teammate about using AI on this codebase?",
        "suggested_effect": "",
    },
]


def seed(apps, schema_editor):
    RetroPrompt = apps.get_model("surveys", "RetroPrompt")
    for item in PROMPTS:
        RetroPrompt.objects.update_or_create(
            key=item["key"], defaults={**item, "organisation": None, "active": True}
        )


def unseed(apps, schema_editor):
    apps.get_model("surveys", "RetroPrompt").objects.filter(
        key__in=[item["key"] for item in PROMPTS], organisation__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("surveys", "0005_retros")]
    operations = [migrations.RunPython(seed, unseed)]
