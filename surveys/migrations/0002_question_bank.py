"""Seed the built-in question bank (docs/DESIGN.md §4). Data lives here, frozen with the
migration, so later code changes never alter what an old database was seeded with."""

from __future__ import annotations

from django.db import migrations

AGREE_7 = [
    "Strongly disagree",
    "Disagree",
    "Somewhat disagree",
    "Neither agree nor disagree",
    "Somewhat agree",
    "Agree",
    "Strongly agree",
]
AGREE_5 = ["Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree", "Strongly agree"]
EDMONDSON = "Edmondson (1999), Administrative Science Quarterly 44(2):350–383"
DEVEX = "Noda, Storey, Forsgren & Greiler (2023), DevEx: What Actually Drives Productivity, ACM Queue 21(2)"
TASK_TYPES = [
    ("boilerplate", "Boilerplate"),
    ("tests", "Tests"),
    ("documentation", "Documentation"),
    ("refactoring", "Refactoring"),
    ("debugging", "Debugging"),
    ("business_logic", "Business logic"),
    ("integrations", "Integrations"),
    ("security_sensitive", "Security-sensitive code"),
    ("architecture", "Architecture and design"),
    ("code_review", "Code review"),
    ("none", "I did not use AI tools"),
]

SAFETY_ITEMS = [
    ("If you make a mistake on this team, it is often held against you.", True),
    ("Members of this team are able to bring up problems and tough issues.", False),
    ("People on this team sometimes reject others for being different.", True),
    ("It is safe to take a risk on this team.", False),
    ("It is difficult to ask other members of this team for help.", True),
    ("No one on this team would deliberately act in a way that undermines my efforts.", False),
    ("Working with members of this team, my unique skills and talents are valued and utilized.", False),
]

QUESTIONS = [
    {
        "key": "perceived_speed",
        "construct": "perceived_speed",
        "kind": "percent",
        "text": "Compared with working without AI tools, how much faster or slower were you on this period's work?",
        "help_text": "−50 % means half as fast, 0 no difference, +100 % twice as fast.",
        "scale_min": -50,
        "scale_max": 100,
        "citation": "METR (2025), arXiv:2507.09089 — the question its developers answered",
        "is_core": True,
        "rotation_order": 1,
    },
    {
        "key": "ai_usage_frequency",
        "construct": "ai_usage",
        "text": "How often did you use AI coding tools this period?",
        "scale_min": 1,
        "scale_max": 5,
        "labels": ["Never", "Less than weekly", "Weekly", "Daily", "Several times a day"],
        "citation": "Stack Overflow Developer Survey 2025; DORA State of AI-assisted Software Development 2025",
        "is_core": True,
        "rotation_order": 2,
    },
    {
        "key": "ai_trust_accuracy",
        "construct": "ai_trust",
        "text": "How much do you trust the accuracy of what AI coding tools produce?",
        "scale_min": 1,
        "scale_max": 5,
        "labels": ["Not at all", "A little", "Somewhat", "A lot", "A great deal"],
        "citation": "DORA 2025 (24 % trust it a lot or a great deal); Stack Overflow Developer Survey 2025",
        "is_core": True,
        "rotation_order": 3,
    },
    *[
        {
            "key": f"psych_safety_{number}",
            "construct": "psychological_safety",
            "text": text,
            "scale_min": 1,
            "scale_max": 7,
            "labels": AGREE_7,
            "reverse_scored": reverse,
            "citation": f"{EDMONDSON}, item {number}{' (reverse-scored)' if reverse else ''}",
            "rotation_order": 10 + number,
        }
        for number, (text, reverse) in enumerate(SAFETY_ITEMS, start=1)
    ],
    {
        "key": "ai_task_types",
        "construct": "ai_usage",
        "kind": "multi",
        "text": "For which kinds of task did you use AI tools this period?",
        "help_text": "Choose all that apply.",
        "options": [{"key": key, "label": label} for key, label in TASK_TYPES],
        "citation": "Stack Overflow Developer Survey 2025 (AI in the development workflow)",
        "rotation_order": 30,
    },
    {
        "key": "ai_satisfaction",
        "construct": "satisfaction",
        "text": "Do AI tools make your work better, or just different?",
        "scale_min": 1,
        "scale_max": 5,
        "labels": ["Clearly worse", "Somewhat worse", "Just different", "Somewhat better", "Clearly better"],
        "citation": "Stack Overflow Developer Survey 2025 (favourability of AI tools); Candor item",
        "rotation_order": 31,
    },
    {
        "key": "review_time",
        "construct": "review_burden",
        "text": "Compared with before AI tools, how much of your time goes into reviewing code?",
        "scale_min": 1,
        "scale_max": 5,
        "labels": ["Much less", "Less", "About the same", "More", "Much more"],
        "citation": "Faros AI (2025), The AI Productivity Paradox (review time +91 %); Candor item",
        "rotation_order": 32,
    },
    {
        "key": "review_confidence",
        "construct": "review_burden",
        "text": "I feel confident reviewing changes that were largely written by AI.",
        "scale_min": 1,
        "scale_max": 5,
        "labels": AGREE_5,
        "reverse_scored": True,
        "citation": "Faros AI (2025); DORA 2025 (trust and review of AI output); Candor item (reverse-scored)",
        "rotation_order": 33,
    },
    {
        "key": "devex_feedback_loops",
        "construct": "feedback_loops",
        "text": "Builds, tests and code reviews give me feedback quickly enough to keep moving.",
        "scale_min": 1,
        "scale_max": 5,
        "labels": AGREE_5,
        "citation": f"{DEVEX} — feedback loops",
        "rotation_order": 34,
    },
    {
        "key": "devex_cognitive_load",
        "construct": "cognitive_load",
        "text": "Understanding the code and tools I work with takes more mental effort than it should.",
        "scale_min": 1,
        "scale_max": 5,
        "labels": AGREE_5,
        "citation": f"{DEVEX} — cognitive load (higher means more load)",
        "rotation_order": 35,
    },
    {
        "key": "devex_flow",
        "construct": "flow",
        "text": "I can regularly get into a state of deep, uninterrupted focus in my work.",
        "scale_min": 1,
        "scale_max": 5,
        "labels": AGREE_5,
        "citation": f"{DEVEX} — flow state",
        "rotation_order": 36,
    },
]


def seed(apps, schema_editor):
    Question = apps.get_model("surveys", "Question")
    for item in QUESTIONS:
        Question.objects.update_or_create(key=item["key"], defaults=item)


def unseed(apps, schema_editor):
    apps.get_model("surveys", "Question").objects.filter(
        key__in=[item["key"] for item in QUESTIONS], organisation__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("surveys", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
