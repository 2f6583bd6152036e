"""What the web tests share: pages read and forms sent the way a browser does, mail, replies."""

from __future__ import annotations

import email
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import urljoin, urlsplit

import lxml.html
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from config import Settings
from consultant.mail.intake import FetchedMessage, Intake
from consultant.models import Role, User
from consultant.services import Services
from consultant.users import create_user
from tests.support.corpus import QUESTIONS, SPECIAL

PASSWORD = "correct horse battery staple"
REVIEWER = "reviewer@clinic.example"
HOST = "localhost"  # Flask's test client talks to http://localhost/
HOSTILE = "<script>alert(1)</script> <img src=x onerror=alert(1)>"


def store_mail(services: Services, raw: bytes) -> None:
    """File one email the way the inbox does; processing runs inline, so the case exists after."""
    Intake(services.db, services.dispatch).store("test", [FetchedMessage(raw=raw)])


def store_question(services: Services, name: str) -> None:
    store_mail(services, (QUESTIONS / name).read_bytes())


def store_special(services: Services, name: str) -> None:
    store_mail(services, (SPECIAL / name).read_bytes())


def add_reviewer(
    services: Services, email_address: str = REVIEWER, role: Role = Role.REVIEWER
) -> User:
    return create_user(services.db, email_address, PASSWORD, role)


def hostile_message() -> bytes:
    """A question whose sender name, subject and body all carry markup."""
    message = EmailMessage()
    message["From"] = Address(display_name=HOSTILE, addr_spec="mallory@evil.example")
    message["To"] = "CaseConsultant <consult@caseconsultant.example>"
    message["Subject"] = f"99213 {HOSTILE}"
    message["Date"] = format_datetime(datetime(2026, 10, 5, 12, 0, tzinfo=UTC))
    message["Message-ID"] = "<hostile.1@evil.example>"
    message.set_content(f"Can 99213 be billed with 25?\n{HOSTILE}\n")
    return bytes(message)


OP_NOTE_PDF = b"%PDF-1.4\n% op note of a patient\n"
OP_NOTE_NAME = "John_Smith_DOB_1962-03-14_MRN12345678.pdf"


def attachment_mail() -> bytes:
    """A question naming a patient, with an HTML version (a script, a remote image) and an
    op note whose file name carries the patient's name, date of birth and MRN."""
    message = EmailMessage()
    message["From"] = "Dana Coder <dana@clinic.example>"
    message["To"] = "consult@caseconsultant.example"
    message["Subject"] = "John Smith DOB 03/14/1962: 47562 or 47563?"
    message["Date"] = format_datetime(datetime(2026, 10, 5, 12, 0, tzinfo=UTC))
    message["Message-ID"] = "<att.1@clinic.example>"
    message.set_content("Lap chole with cholangiogram: 47563 or 47562? Op note attached.\n")
    message.add_alternative(
        "<p>Lap chole: <b>47563</b>?<script>alert('mail ran')</script>"
        '<img src="https://tracker.example/pixel.png" onerror="alert(2)"></p>',
        subtype="html",
    )
    message.add_attachment(
        OP_NOTE_PDF, maintype="application", subtype="pdf", filename=OP_NOTE_NAME
    )
    return bytes(message)


def outbox_messages(settings: Settings) -> list[EmailMessage]:
    """Every message in the Maildir outbox, oldest first."""
    new = settings.maildir_outbox / "new"
    files = sorted(new.iterdir()) if new.exists() else []
    return [
        email.message_from_bytes(path.read_bytes(), policy=policy.default)  # type: ignore[misc]
        for path in files
    ]


def sent_replies(settings: Settings) -> list[EmailMessage]:
    """The replies in the outbox: everything but the automatic acknowledgments."""
    return [m for m in outbox_messages(settings) if m["Auto-Submitted"] is None]


MARKER = re.compile(r"\n\n\[ref:CC-\d{6}\]\n\Z")


def reply_text(message: EmailMessage) -> str:
    """The text part as the expert wrote it: the case marker every message ends with, removed."""
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content().replace("\r\n", "\n")  # type: ignore[attr-defined]
    marked = MARKER.search(text)
    assert marked is not None, f"no case marker at the end of {text[-80:]!r}"
    return text[: marked.start()] + "\n"


@dataclass
class Page:
    """A served HTML page, parsed, with what a person (or a browser) reads from it."""

    response: TestResponse

    def __post_init__(self) -> None:
        self.html = self.response.get_data(as_text=True)
        self.tree = lxml.html.document_fromstring(self.html)

    def texts(self, xpath: str) -> list[str]:
        return [" ".join(e.text_content().split()) for e in self.tree.xpath(xpath)]

    def text(self, xpath: str) -> str:
        found = self.texts(xpath)
        assert len(found) == 1, f"{len(found)} elements match {xpath}"
        return found[0]

    @property
    def visible_text(self) -> str:
        body = self.tree.find("body")
        return " ".join(body.text_content().split()) if body is not None else ""

    @property
    def flashes(self) -> list[str]:
        return self.texts("//p[contains(@class, 'flash')]")

    @property
    def status(self) -> str:
        """The status a reviewer sees next to the case title."""
        return self.text("//p[@class='meta']/span[contains(@class, 'status')]")

    @property
    def draft(self) -> str:
        """The draft in the editing box as a browser fills it (one leading newline dropped)."""
        (box,) = self.tree.xpath("//textarea[@name='text']")
        text = box.text or ""
        return text.removeprefix("\n")

    def form(self, action: str) -> dict[str, str]:
        """The fields of the form posting to ``action`` with their values, hidden ones included:
        a form whose action it is, or the form of a button whose ``formaction`` it is (as the
        editor's "Approve and send" posts the editor's text elsewhere)."""
        forms = [f for f in self.tree.forms if (f.get("action") or "") == action]
        forms += [
            button.getparent()
            for button in self.tree.xpath("//form//button[@formaction]")
            if button.get("formaction") == action
        ]
        forms = [f if f.tag == "form" else next(f.iterancestors("form")) for f in forms]
        assert len(forms) == 1, f"{len(forms)} forms post to {action!r}"
        fields = {}
        for field in forms[0].inputs:
            if field.name is None or field.tag == "button":
                continue
            if field.tag == "textarea":
                # A browser drops one newline right after <textarea>; lxml keeps it.
                fields[field.name] = (field.value or "").removeprefix("\n")
            else:
                fields[field.name] = field.value or ""
        return fields

    @property
    def csrf_token(self) -> str:
        tokens = set(self.tree.xpath("//input[@name='csrf_token']/@value"))
        assert len(tokens) == 1, "every form on a page carries the same csrf_token"
        return tokens.pop()


def browser_target(location: str, base: str = f"http://{HOST}/login") -> str:
    """Where a browser goes for ``Location: location``: it strips tabs and newlines and reads
    a backslash as a slash (WHATWG URL rules), which Python's urljoin does not."""
    cleaned = "".join(c for c in location if c not in "\t\n\r").replace("\\", "/")
    return urljoin(base, cleaned)


def get(client: FlaskClient, path: str, **kwargs: object) -> Page:
    response = client.get(path, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 200, f"GET {path}: {response.status_code}"
    return Page(response)


def referer(page: Page) -> dict[str, str]:
    """The Referer a browser sends when a form on ``page`` posts to the same site, which
    depends on the page's Referrer-Policy."""
    policy = page.response.headers.get("Referrer-Policy", "strict-origin-when-cross-origin")
    url = page.response.request.url
    if policy == "no-referrer":
        return {}
    if policy in ("origin", "strict-origin"):
        parts = urlsplit(url)
        return {"Referer": f"{parts.scheme}://{parts.netloc}/"}
    return {"Referer": url}


def sign_in(client: FlaskClient, email_address: str = REVIEWER, password: str = PASSWORD) -> Page:
    """Fill in and send the login form; returns the page the browser lands on."""
    login = get(client, "/login")
    return submit(client, login, "", email=email_address, password=password)


def submit(
    client: FlaskClient, page: Page, action: str, *, follow: bool = True, **values: str
) -> Page:
    """Send the form of ``page`` that posts to ``action`` (``""``: to the page itself) with
    ``values`` typed in, as a browser would."""
    fields = page.form(action)
    fields.update(values)
    target = action or page.response.request.full_path
    response = client.post(target, data=fields, headers=referer(page), follow_redirects=follow)
    return Page(response)


def path_of(location: str) -> str:
    return urlsplit(location).path
