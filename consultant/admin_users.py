"""What admins do to accounts beyond ``consultant.users``: change a role, and keep an admin.

No change made here or through ``disable`` may leave the system without an
active admin: the last one can neither demote nor disable themselves (nor be
demoted or disabled by anyone), since nobody could then manage the accounts
except from the command line.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from consultant import auth_log, users
from consultant.auth_log import AuthEventKind
from consultant.db import Database
from consultant.models import Role, User
from consultant.users import UserError


class LastAdminError(UserError):
    """Raised when a change would leave no active admin."""


def _other_active_admins(session: Session, user: User) -> int:
    """How many active admins there are besides ``user``; their rows are locked (PostgreSQL)
    until the transaction ends, so two admins demoting each other cannot both succeed."""
    rows = session.scalars(
        select(User.id).where(User.role == Role.ADMIN, User.active.is_(True)).with_for_update()
    )
    return sum(1 for user_id in rows if user_id != user.id)


def _refuse_last_admin(session: Session, user: User, what: str) -> None:
    if user.role == Role.ADMIN and user.active and _other_active_admins(session, user) == 0:
        raise LastAdminError(f"{user.email} is the only active admin and cannot be {what}")


def _user(session: Session, email: str) -> User:
    user = session.scalar(
        select(User).where(User.email == users.normalise_email(email)).with_for_update()
    )
    if user is None:
        raise UserError(f"there is no user {users.normalise_email(email)}")
    return user


def set_role(db: Database, email: str, role: Role, actor: str) -> bool:
    """Give ``email`` the role ``role``; False when it had it already. Recorded with ``actor``."""
    role = Role(role)
    with db.session() as session:
        user = _user(session, email)
        if user.role == role:
            return False
        if role != Role.ADMIN:
            _refuse_last_admin(session, user, f"made {role}")
        previous, user.role = user.role, role
        auth_log.record(
            session,
            AuthEventKind.ROLE_CHANGED,
            email=user.email,
            user_id=user.id,
            by=actor,
            **{"from": str(previous), "to": str(role)},
        )
    return True


def set_active(db: Database, email: str, active: bool, actor: str) -> int:
    """Enable or disable ``email`` (``users.set_active``: sessions end, recorded), refusing
    to disable the last active admin. Returns how many sessions ended."""
    if not active:
        with db.session() as session:
            _refuse_last_admin(session, _user(session, email), "disabled")
    return users.set_active(db, email, active, actor)
