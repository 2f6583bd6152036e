"""No page answers 500 because of what a message holds, and none parses mail on every view."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from consultant.services import Services
from consultant.web import create_app
from tests.web.helpers import add_reviewer, get, sign_in, store_mail


def _deep_mime(depth: int) -> bytes:
    parts = [b"From: dana@clinic.example\r\nSubject: deep\r\nMessage-ID: <deep@clinic.example>\r\n"]
    for level in range(depth):
        parts.append(
            b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (level, level)
        )
    parts.append(b"Content-Type: text/plain\r\n\r\nCan I bill 99213 with 25?\r\n")
    parts.extend(b"--b%d--\r\n" % level for level in reversed(range(depth)))
    return b"".join(parts)


def _big_html(megabytes: int) -> bytes:
    row = b"<tr><td>99213</td><td>office visit, established patient</td></tr>\n"
    body = b"<html><body><p>Can I bill 99213-25?</p><table>" + row * (
        megabytes * 1_000_000 // len(row)
    )
    return (
        b"From: Dana <dana@clinic.example>\r\nSubject: big table\r\n"
        b"Message-ID: <html@clinic.example>\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        + body
        + b"</table></body></html>\r\n"
    )


HOSTILE_MAIL = {
    "unclosed From": b"From: Dana <\r\nSubject: q\r\nMessage-ID: <u@x.example>\r\n\r\n99213?\r\n",
    "CRLF in a name": (
        b"From: =?utf-8?q?Dana=0D=0AX=3A_y?= <dana@clinic.example>\r\nSubject: q\r\n"
        b"Message-ID: <c@x.example>\r\n\r\n99213?\r\n"
    ),
    "NEL in the address": (
        "From: Dana <da\x85na@clinic.example>\r\nSubject: q\r\nMessage-ID: <n@x.example>\r\n"
        "\r\n99213?\r\n"
    ).encode(),
    "NUL everywhere": (
        b"From: dana@clinic.example\r\nSubject: q\x00q\r\nMessage-ID: <z\x00@x.example>\r\n"
        b"\r\n99\x00213?\r\n"
    ),
    "MIME 1,000 deep": _deep_mime(1000),
    "10 MB of HTML": _big_html(10),
    "a 1 MB subject": b"From: dana@clinic.example\r\nSubject: "
    + b"x" * 1_000_000
    + b"\r\nMessage-ID: <s@x.example>\r\n\r\n99213?\r\n",
    "empty": b"\r\n\r\n",
}


@pytest.fixture
def signed_in(services: Services) -> FlaskClient:
    client = create_app(services).test_client()
    add_reviewer(services)
    sign_in(client)
    return client


@pytest.mark.parametrize("name", sorted(HOSTILE_MAIL))
def test_the_case_page_of_hostile_mail_opens(
    signed_in: FlaskClient, services: Services, name: str
) -> None:
    store_mail(services, HOSTILE_MAIL[name])

    page = get(signed_in, "/cases/CC-000001")
    queue = get(signed_in, "/?status=all")

    assert page.response.status_code == 200
    assert queue.response.status_code == 200
    assert "\x00" not in page.response.get_data(as_text=True)
    assert len(page.response.data) < 500_000  # the stored text, bounded, never the raw mail


def test_big_html_is_shown_as_its_stored_text_with_the_limit_on_the_timeline(
    signed_in: FlaskClient, services: Services
) -> None:
    store_mail(services, _big_html(10))

    page = get(signed_in, "/cases/CC-000001")

    assert "Can I bill 99213-25?" in page.visible_text
    assert "only the first 1,000,000 bytes were converted" in page.visible_text
