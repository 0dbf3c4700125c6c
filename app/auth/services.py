"""Creating users and managing their lanes."""
from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from app.auth.lanes import LANES
from app.auth.models import ROLES, LaneMembership, User
from app.auth.passwords import password_problem
from app.i18n import english_of


class UserError(ValueError):
    pass


class PasswordRefused(UserError):
    """A password too short or too easy to guess; ``message`` is the Indonesian text for beside the field."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(english_of(message) or message)


class UsernameInvalid(UserError):
    """A username people could not type or read back (spaces, capitals, other signs)."""


USERNAME = re.compile(r"[a-z0-9_.-]{3,100}")


def create_user(session: Session, username: str, full_name: str, password: str, role: str = "officer",
                lanes: Iterable[str] = (), email: str | None = None) -> User:
    """Create a user with a hashed password (scrypt) and the given lanes."""
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    if not username or not full_name:
        raise UserError("username and full name are required")
    if not USERNAME.fullmatch(username):
        raise UsernameInvalid(f"username {username!r} must be 3-100 of a-z, 0-9, '_', '.', '-' (no spaces or capitals)")
    if session.scalars(select(User).where(User.username == username)).first() is not None:
        raise UserError(f"user {username!r} already exists")
    user = User(username=username, full_name=full_name, email=email, role=role, password_hash="")
    set_password(user, password, personal=(username, full_name))
    session.add(user)
    set_lanes(user, lanes)
    session.flush()
    return user


NIP = re.compile(r"[0-9]{18}")


def set_nip(user: User, nip: str | None) -> None:
    """The civil-servant number printed under a signer's name: 18 digits, or none."""
    nip = (nip or "").replace(" ", "").strip()
    if nip and not NIP.fullmatch(nip):
        raise UserError("NIP must be 18 digits")
    user.nip = nip or None


def set_password(user: User, password: str, personal: Iterable[str] = ()) -> None:
    """Hash (scrypt) and store a new password: at least 10 characters, not common, repeated
    or made of the user's names (:func:`app.auth.passwords.password_problem`)."""
    problem = password_problem(password, [user.username or "", user.full_name or "", *personal])
    if problem is not None:
        raise PasswordRefused(problem)
    user.password_hash = generate_password_hash(password, method="scrypt")


def set_lanes(user: User, lanes: Iterable[str]) -> None:
    """Replace the user's lane memberships; unknown lanes are refused."""
    wanted = set(lanes)
    unknown = wanted - set(LANES)
    if unknown:
        raise UserError(f"unknown lane(s) {', '.join(sorted(unknown))}; known: {', '.join(LANES)}")
    user.lanes = [m for m in user.lanes if m.lane in wanted] + [
        LaneMembership(lane=lane) for lane in sorted(wanted - user.lane_names)
    ]


def get_user(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise UserError(f"no user {username!r}")
    return user


# -- reads for the pages ------------------------------------------------------------------------
def all_users(session: Session) -> list[User]:
    """Every user, by username (the administrator's list)."""
    return list(session.scalars(select(User).order_by(User.username)))


def user_by_id(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def find_user(session: Session, username: str) -> User | None:
    """The user with this username, or None."""
    return session.scalars(select(User).where(User.username == username)).first()


def full_name_of(session: Session, username: str) -> str | None:
    return session.scalar(select(User.full_name).where(User.username == username))


def active_users_in_lane(session: Session, lane: str) -> list[User]:
    """Active users who work in ``lane``, by full name (whom a step may be given to)."""
    return [u for u in session.scalars(select(User).where(User.active.is_(True)).order_by(User.full_name))
            if lane in u.lane_names]


def managers(session: Session) -> list[User]:
    """Managers and administrators, by username (who may be responsible for a process or lane)."""
    return list(session.scalars(select(User).where(User.role.in_(("manager", "admin"))).order_by(User.username)))
