"""`manage.py shell -c` prints only what the command prints (scripts read its output)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_a_shell_command_prints_nothing_but_its_own_output() -> None:
    out = io.StringIO()
    call_command("shell", command="print('only this')", stdout=out)
    assert out.getvalue() == ""  # print() goes to the process's stdout, not to `out`
