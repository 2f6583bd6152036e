"""`consultant run`, the main job of `make run`: one process, nothing set up, mail in and out."""

from __future__ import annotations

import email
import os
import signal
import subprocess
import sys
import urllib.request
from email import policy
from pathlib import Path

from tests.support.corpus import QUESTIONS
from tests.support.required import free_port, port_open
from tests.support.waiting import wait_until


def test_run_takes_in_a_dropped_file_and_serves_the_review_app(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "CONSULTANT_VAR_DIR": str(tmp_path / "var")}
    log = (tmp_path / "run.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "consultant", "run", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until(lambda: port_open("127.0.0.1", port), "the web app to listen")
        output = (tmp_path / "run.log").read_text()
        assert f"review:  http://127.0.0.1:{port}/" in output
        assert "consultant users create" in output
        assert "loaded ICD-10-CM 2026-04 (123,348 rows)" in output

        inbox = tmp_path / "var" / "mail" / "inbox" / "new"
        (inbox / "question.eml").write_bytes((QUESTIONS / "02.eml").read_bytes())
        outbox = tmp_path / "var" / "mail" / "outbox" / "new"
        wait_until(lambda: any(outbox.iterdir()), "the acknowledgment in the outbox")
        (ack_path,) = outbox.iterdir()
        ack = email.message_from_bytes(ack_path.read_bytes(), policy=policy.default)
        assert ack["To"] == "billing@bluelakefp.example"
        assert ack["Subject"] == "Re: 99213-25 with 11102 [CC-000001]"
        wait_until(lambda: not any(inbox.iterdir()), "the file to leave the inbox")
        assert [p.name for p in (tmp_path / "var" / "mail" / "processed" / "cur").iterdir()] == [
            "question.eml"
        ]

        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login") as response:
            assert response.status == 200
            assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
        log.close()
    assert process.returncode == 0, (tmp_path / "run.log").read_text()
