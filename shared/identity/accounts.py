"""Accounts: registration, sign-in, password change and the caller's own record.

The auth function's routes are one call each into this module. Sign-in answers an unknown account
and a wrong password identically, and spends the same argon2 work on both (a dummy hash), so
neither the body nor the timing says whether an account exists.
"""

from __future__ import annotations

import uuid
from typing import NoReturn

from shared.clients import db
from shared.core.errors import ConflictError, ForbiddenError, PasswordNotSetError, UnauthorizedError
from shared.core.settings import get_settings
from shared.identity import passwords, ratelimit, sessions
from shared.models.accounts import (
    LoginCreate,
    PasswordUpdate,
    RegisteredPublic,
    SignedInPublic,
    TokenPublic,
    UserCreate,
)
from shared.models.profiles import ProfilePublic
from shared.repositories import users

# The unique indexes of 001_initial_schema.sql, and the request field each one protects.
FIELD_BY_CONSTRAINT = {"users_username_key": "username", "users_email_key": "email"}


def login_rule() -> ratelimit.Rule:
    return ratelimit.Rule("login", get_settings().login_attempts_per_min)


# A hash of a random password nobody knows, at the configured parameters (a test keeps them in step).
# A literal rather than computed on first use, so even a cold container's first unknown-user login
# costs exactly one verification, like a wrong password.
DUMMY_HASH = "$argon2id$v=19$m=19456,t=2,p=1$C6RXPWHBFGd8avaeGAGpKg$3Fm8aiArYGks2jdXCfvlq9Q7lr4lS7TBaIrUOCbdI2s"


def _bad_credentials() -> UnauthorizedError:
    return UnauthorizedError("invalid username or password", code="invalid_credentials")


def _conflict(exc: Exception) -> NoReturn:
    field = FIELD_BY_CONSTRAINT.get(getattr(getattr(exc, "diag", None), "constraint_name", None) or "")
    if field is None:
        raise exc
    raise ConflictError(f"that {field} is already taken", code="already_exists",
                        details=[{"field": f"body.{field}", "message": f"{field} already taken", "type": "unique"}]
                        ) from exc


def _no_password() -> PasswordNotSetError:
    return PasswordNotSetError("this account has no password: sign in with the provider it was created with, "
                               "or set a password through password recovery")


def register(body: UserCreate) -> RegisteredPublic:
    """Create the user and their first sign-in atomically; 409 naming the field on a duplicate."""
    import psycopg

    password_hash = passwords.hash_password(body.password)
    try:
        with db.transaction() as conn:
            row = users.create_user(conn, username=body.username, email=str(body.email),
                                    password_hash=password_hash, display_name=body.display_name)
            pair = sessions.start(conn, row["id"])
    except psycopg.errors.UniqueViolation as exc:
        _conflict(exc)
    return RegisteredPublic(user=ProfilePublic.model_validate(row["profile"]), **pair.model_dump())


def login(body: LoginCreate, client_ip: str) -> SignedInPublic:
    """A token pair for the right password; the same 401 for every wrong answer.

    The attempt is drawn from the account+IP bucket *before* the password is checked, so parallel
    guesses cannot overshoot the limit. The bucket is keyed on the account when it exists (so
    alternating username and e-mail does not double the budget), else on what was typed.
    """
    creds = db.run(lambda conn: users.get_credentials(conn, body.username))
    account = str(creds["id"]) if creds else body.username.lower()
    ratelimit.check(login_rule(), ratelimit.hashed(account, client_ip))
    if creds is None or creds["password_hash"] is None:
        passwords.verify_password(DUMMY_HASH, body.password)  # the same work as a wrong password
        raise _bad_credentials() if creds is None else _no_password()
    if not passwords.verify_password(creds["password_hash"], body.password):
        raise _bad_credentials()
    if passwords.needs_rehash(creds["password_hash"]):
        new_hash = passwords.hash_password(body.password)
        db.run(lambda conn: users.update_password_hash(conn, creds["id"], new_hash))
    pair = db.run(lambda conn: sessions.start(conn, creds["id"]))
    return SignedInPublic(user=ProfilePublic.model_validate(creds["profile"]), **pair.model_dump())


def change_password(user_id: uuid.UUID, body: PasswordUpdate, client_ip: str) -> TokenPublic:
    """Check the current password, store the new one, revoke every sign-in, return a fresh pair."""
    ratelimit.check(login_rule(), ratelimit.hashed(str(user_id), client_ip))
    old_hash = db.run(lambda conn: users.get_password_hash(conn, user_id))
    if old_hash is None:
        exists = db.run(lambda conn: users.get_user(conn, user_id)) is not None
        raise _no_password() if exists else UnauthorizedError("this account no longer exists")
    if not passwords.verify_password(old_hash, body.current_password):
        raise ForbiddenError("the current password is incorrect", code="invalid_credentials",
                             details=[{"field": "body.current_password", "message": "incorrect", "type": "invalid"}])
    new_hash = passwords.hash_password(body.new_password)
    pair = db.run(lambda conn: sessions.restart_with_password(conn, user_id, old_hash, new_hash))
    if pair is None:
        raise ConflictError("the password was changed by another request; sign in again")
    return pair


def me(user_id: uuid.UUID) -> ProfilePublic:
    """The caller's own profile, as GET /me/profile serves it."""
    row = db.run(lambda conn: users.get_user(conn, user_id))
    if row is None:
        raise UnauthorizedError("this account no longer exists")
    return ProfilePublic.model_validate(row["profile"])
