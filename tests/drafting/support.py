"""Questions written for the drafting tests, as the mail a coder would send."""

from __future__ import annotations

import uuid
from email.message import EmailMessage


def question(body: str) -> bytes:
    message = EmailMessage()
    message["From"] = "Dana Coder <dana@clinic.example>"
    message["To"] = "consult@caseconsultant.example"
    message["Subject"] = "HCPCS question"
    message["Message-ID"] = f"<{uuid.uuid4().hex}@clinic.example>"
    message.set_content(body)
    return bytes(message)
