"""``consultant run``: the whole main job in one process, for a machine with nothing set up.

The inbox source (the local Maildir unless IMAP is configured) and the sweep
run in threads, the review web app in the foreground; with no broker URL the
work runs in-process, with no SMTP host replies land in the Maildir outbox.
"""

from __future__ import annotations

import logging
import threading

from config import Settings
from consultant import db as database
from consultant.cases.sweep import sweep
from consultant.codes.defaults import ensure_icd10cm
from consultant.mail.sources import make_source
from consultant.services import Services, build_services
from consultant.warm_up import warm_up

log = logging.getLogger(__name__)


def sweep_forever(services: Services, stop: threading.Event) -> None:
    """The embedded stand-in for Celery beat."""
    while not stop.wait(services.settings.sweep_seconds):
        try:
            sweep(services)
        except Exception:
            log.exception("sweep failed; trying again in %.0f s", services.settings.sweep_seconds)


def _banner(settings: Settings, host: str, port: int) -> str:
    inbox = f"IMAP {settings.imap_host}" if settings.imap_host else settings.maildir_inbox / "new"
    outbox = f"SMTP {settings.smtp_host}" if settings.smtp_host else settings.maildir_outbox / "new"
    return f"""
CaseConsultant is running.
  inbox:   {inbox}   <- drop an .eml file here to file a consult question
  outbox:  {outbox}   <- approved replies and acknowledgments land here
  review:  http://{host}:{port}/
  first login:  .venv/bin/consultant users create you@example.com --role admin
  (Ctrl-C stops everything.)
"""


def run_all(settings: Settings, host: str, port: int) -> None:
    """Migrate, then run the inbox, the sweep and the web app until interrupted."""
    from consultant.web.server import serve_app

    database.upgrade(settings.database_url)
    services = build_services(settings)
    loaded = ensure_icd10cm(services.db)
    if loaded is not None:
        print(f"loaded ICD-10-CM {loaded.release['version']} ({loaded.rows:,} rows)", flush=True)
    if not settings.broker_url:
        warm_up(services)  # the first question is drafted as fast as the rest
    stop = threading.Event()
    threads = [
        threading.Thread(target=make_source(services).run, args=(stop,), name="inbox", daemon=True),
        threading.Thread(target=sweep_forever, args=(services, stop), name="sweep", daemon=True),
    ]
    for thread in threads:
        thread.start()
    print(_banner(settings, host, port), flush=True)
    try:
        serve_app(services, host, port)
    except KeyboardInterrupt:
        print("stopping ...", flush=True)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
        services.db.dispose()
