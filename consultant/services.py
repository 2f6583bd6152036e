"""The services one process works with, built once from settings and passed around.

Side effects sit behind these: the database, the transport that sends mail,
the Sent-folder copy, the dispatcher that starts background work. Choosing
the real or the local implementation happens here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

from config import Settings
from consultant.codes.lookup import CodeLookup
from consultant.db import Database
from consultant.dispatch import Dispatcher, make_dispatcher
from consultant.drafting.render import Renderer
from consultant.mail.dkim_signing import Signer, make_signer
from consultant.mail.sent_copy import SentCopy, make_sent_copy
from consultant.mail.transport import Transport, make_transport


@dataclass
class Services:
    settings: Settings
    db: Database
    renderer: Renderer
    transport: Transport
    sent_copy: SentCopy | None
    dispatch: Dispatcher
    lookup: CodeLookup
    sign: Signer  # DKIM on every message we compose, or the bytes unchanged


def build_services(settings: Settings, dispatch: Dispatcher | None = None) -> Services:
    """Everything a process needs; the dispatcher follows the settings unless one is given."""
    dispatcher = dispatch if dispatch is not None else make_dispatcher(settings)
    db = Database(settings.database_url)
    services = Services(
        settings=settings,
        db=db,
        renderer=Renderer(settings.templates_dir),
        transport=make_transport(settings),
        sent_copy=make_sent_copy(settings),
        dispatch=dispatcher,
        lookup=CodeLookup(db),
        sign=make_signer(settings),
    )
    dispatcher.bind(services)
    return services
