"""An email backend for processes the fault tests kill: every message is a JSON file in
CANDOR_FAULTS_MAIL_DIR, written whole (rename), and every attempt a line in attempts.log.

CANDOR_FAULTS_MAIL_HOLD=before:N (or after:N) makes this process stop for good on its
N-th message, before (or after) writing it, so a test can kill it at a known point.
CANDOR_FAULTS_MAIL_FAIL=address,... refuses those addresses, as a broken mailbox would.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from smtplib import SMTPRecipientsRefused
from typing import Any

from django.core.mail.backends.base import BaseEmailBackend

HELD_MARK = "held"
_sent_by_this_process = 0


def _directory() -> Path:
    return Path(os.environ["CANDOR_FAULTS_MAIL_DIR"])


def _hold() -> tuple[str, int] | None:
    raw = os.environ.get("CANDOR_FAULTS_MAIL_HOLD", "")
    if not raw:
        return None
    when, number = raw.split(":")
    return when, int(number)


def _stop_here() -> None:
    """Say so, then wait to be killed."""
    (_directory() / HELD_MARK).write_text(str(os.getpid()))
    while True:
        time.sleep(1)


class FileMailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[Any]) -> int:
        global _sent_by_this_process
        refused = {a for a in os.environ.get("CANDOR_FAULTS_MAIL_FAIL", "").split(",") if a}
        hold = _hold()
        for message in email_messages:
            with (_directory() / "attempts.log").open("a") as log:
                log.write(f"{message.to[0]}\n")
            if message.to[0] in refused:
                raise SMTPRecipientsRefused({message.to[0]: (550, b"mailbox unavailable")})
            _sent_by_this_process += 1
            if hold == ("before", _sent_by_this_process):
                _stop_here()
            record = {"to": message.to, "subject": message.subject, "body": message.body}
            partial = _directory() / f".{uuid.uuid4().hex}"
            partial.write_text(json.dumps(record))
            partial.rename(_directory() / f"{partial.name[1:]}.json")
            if hold == ("after", _sent_by_this_process):
                _stop_here()
        return len(email_messages)
