"""Retro prompts: sessions per team and sprint, a prompt library, anonymous cards, the
facilitator's board and exports, and what the team learns across sprints."""
