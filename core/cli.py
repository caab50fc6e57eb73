"""Operator commands: `python -m core.cli create-superuser --email E [--password P] [--display-name N]` and
`python -m core.cli create-invite [--note N] [--hours H]` (prints a single-use registration link).

The email may come from SUPERUSER_EMAIL and the password from SUPERUSER_PASSWORD (kept out of shell history);
on a terminal, whatever is missing is asked for. Running it for an existing account makes that account an active superuser and sets the
given password, so it also serves to recover admin access.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from core.db import create_engine, create_sessionmaker, session_scope
from core.invites import create_invite, invite_link
from core.schemas import UserRegister
from core.security import hash_password
from core.settings import get_settings
from core.users import get_user_by_email, register_user

PASSWORD_ENV = "SUPERUSER_PASSWORD"
EMAIL_ENV = "SUPERUSER_EMAIL"


async def create_superuser(body: UserRegister) -> bool:
    """Create the superuser, or promote and re-password an existing account. True when a new account was made."""
    engine = create_engine(get_settings())
    try:
        async with session_scope(create_sessionmaker(engine)) as session:
            user = await get_user_by_email(session, body.email)
            if user is None:
                await register_user(session, body, is_superuser=True)
                return True
            user.password_hash = await hash_password(body.password)
            user.is_superuser = True
            user.is_active = True
            session.add(user)
            await session.flush()
            return False
    finally:
        await engine.dispose()


async def make_invite(note: str, hours: int | None) -> str:
    """Create an invite (no creator: it came from the command line) and return its link."""
    settings = get_settings()
    engine = create_engine(settings)
    try:
        async with session_scope(create_sessionmaker(engine)) as session:
            invite = await create_invite(session, settings, created_by_id=None, note=note, ttl_hours=hours)
            return invite_link(settings, invite)
    finally:
        await engine.dispose()


def _read_email(given: str | None) -> str:
    if given:
        return given
    if os.environ.get(EMAIL_ENV):
        return os.environ[EMAIL_ENV]
    if sys.stdin.isatty():
        return input("Email: ")
    raise SystemExit(f"Give --email, set {EMAIL_ENV}, or run on a terminal to be prompted.")


def _read_password(given: str | None) -> str:
    if given:
        return given
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise SystemExit("The two passwords differ.")
        return first
    raise SystemExit(f"Give --password, set {PASSWORD_ENV}, or run on a terminal to be prompted.")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m core.cli", description=__doc__.splitlines()[0] if __doc__ else None
    )
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-superuser", help="create (or promote) an admin account")
    create.add_argument("--email", help=f"defaults to the {EMAIL_ENV} environment variable")
    create.add_argument("--password", help=f"prefer the {PASSWORD_ENV} environment variable")
    create.add_argument("--display-name", help="defaults to the part of the email before @")
    invite = commands.add_parser("create-invite", help="print a single-use registration link")
    invite.add_argument("--note", default="", help="who it is for (shown in the admin's list of invites)")
    invite.add_argument("--hours", type=int, help="how long it stays valid (default: INVITE_TTL_HOURS)")
    args = parser.parse_args(argv)

    if args.command == "create-invite":
        if args.hours is not None and args.hours < 1:
            print("Refused: --hours must be at least 1", file=sys.stderr)
            return 2
        if len(args.note) > 200:
            print("Refused: --note must be at most 200 characters", file=sys.stderr)
            return 2
        print(asyncio.run(make_invite(args.note.strip(), args.hours)))
        return 0

    if args.command == "create-superuser":
        email: str = _read_email(args.email).strip()
        display_name: str = args.display_name or email.split("@", 1)[0] or "Admin"
        try:
            body = UserRegister(
                email=email, password=_read_password(args.password), display_name=display_name
            )
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            print(f"Refused: {problems}", file=sys.stderr)
            return 2
        created = asyncio.run(create_superuser(body))
        if created:
            print(f"Created superuser {body.email}")
        else:
            print(f"{body.email} already existed: it is now an active superuser with the given password")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
