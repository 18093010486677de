"""`python -m bench.fixtures seed|audit`: the Django side of the benchmark, in its own process.

Run with DJANGO_SETTINGS_MODULE=bench.settings against the benchmark database; prints one
JSON document on stdout. A separate process per database keeps the runner free of Django.
"""

from __future__ import annotations

import argparse
import json
import sys

import django


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.fixtures")
    commands = parser.add_subparsers(dest="command", required=True)
    seed = commands.add_parser("seed", help="create the team, the open run and its tokens")
    seed.add_argument("--invitations", type=int, required=True)
    audit = commands.add_parser("audit", help="count responses, answers and used invitations")
    audit.add_argument("--run-id", type=int, required=True)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    arguments = _arguments(argv)
    django.setup()
    from bench import population

    if arguments.command == "seed":
        document = population.seed(invitations=arguments.invitations)
    else:
        document = population.audit(run_id=arguments.run_id)
    json.dump(document, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
