"""Accounts: registration, sign-in, password change and the caller's own record.

The auth function's routes are one call each into this module. Sign-in answers an unknown account
and a wrong password identically, and spends the same argon2 work on both (a dummy hash), so
neither the body nor the timing says whether an account exists.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, NoReturn

from shared.clients import db
from shared.core.errors import (
    ConflictError,
    ForbiddenError,
    MailUnavailableError,
    PasswordNotSetError,
    UnauthorizedError,
)
from shared.core.i18n import N_
from shared.core.observability import SIGN_UPS, count, logger
from shared.core.settings import get_settings
from shared.identity import passwords, ratelimit, recovery, security_log, sessions
from shared.models.accounts import (
    LoginCreate,
    PasswordUpdate,
    RegisteredPublic,
    SignedInPublic,
    TokenPublic,
    UserCreate,
)
from shared.models.profiles import ProfilePublic
from shared.public import cache as public_cache
from shared.repositories import users
from shared.sync.notify import after_write

if TYPE_CHECKING:
    import psycopg

# The unique indexes of 001_initial_schema.sql, and the request field each one protects.
FIELD_BY_CONSTRAINT = {"users_username_key": "username", "users_email_key": "email"}


def login_rule() -> ratelimit.Rule:
    return ratelimit.Rule("login", get_settings().login_attempts_per_min)


def account_rule() -> ratelimit.Rule:
    return ratelimit.Rule("login-account", get_settings().account_login_attempts_per_min)


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
    taken = {"username": N_("username already taken"), "email": N_("email already taken")}
    raise ConflictError("that {field} is already taken", code="already_exists", params={"field": field},
                        details=[{"field": f"body.{field}", "message": taken.get(field, N_("already taken")),
                                  "type": "unique"}]) from exc


def _no_password() -> PasswordNotSetError:
    return PasswordNotSetError("this account has no password: sign in with the provider it was created with, "
                               "or set a password through password recovery")


def register(body: UserCreate, device: sessions.Device | None = None) -> RegisteredPublic:
    """Create the user and their first sign-in atomically (409 naming the field on a duplicate), then
    mail a verification link. A mail that cannot be sent does not undo the account: it is logged, and
    the user can ask for another link (POST /auth/email/verify/resend)."""
    import psycopg

    passwords.require_strong(body.password, username=body.username, email=str(body.email))
    password_hash = passwords.hash_password(body.password)
    try:
        with db.transaction() as conn:
            row = users.create_user(conn, username=body.username, email=str(body.email),
                                    password_hash=password_hash, display_name=body.display_name)
            if row is None:  # reserved by a deleted account
                raise ConflictError("that username is already taken", code="already_exists", details=[
                    {"field": "body.username", "message": N_("username already taken"), "type": "unique"}])
            pair, family = sessions.begin(conn, row["id"], device)
            security_log.record(conn, row["id"], "sign_in", device, family)
    except psycopg.errors.UniqueViolation as exc:
        _conflict(exc)
    count(SIGN_UPS)  # committed
    try:
        recovery.send_verification(row["id"], body.display_name or body.username)
    except MailUnavailableError:
        logger.warning("verification mail not sent at registration", extra={"user_id": str(row["id"])})
    return RegisteredPublic(user=ProfilePublic.model_validate(row["profile"]), **pair.model_dump())


def login(body: LoginCreate, client_ip: str, device: sessions.Device | None = None) -> SignedInPublic:
    """The user and a token pair for the right password; the same 401 for every wrong answer.

    Two limits, both drawn *before* the password is checked (parallel guesses cannot overshoot):

    * per login + IP, keyed on what was typed: its 429 is visible, and since it depends only on the
      caller's own input it cannot tell anyone that an e-mail and a username are one account;
    * per account + IP (the account when it exists, else what was typed): it stops alternating the
      username and the e-mail from doubling the guesses, and never changes the answer. When it is
      spent the password is not honoured: the caller gets the same 401, after the same argon2
      work, as for a wrong password.
    """
    typed = body.username.lower()
    ratelimit.check(login_rule(), ratelimit.hashed(typed, client_ip))
    creds = db.run(lambda conn: users.get_credentials(conn, body.username))
    account = str(creds["id"]) if creds else typed
    allowed = ratelimit.allows(account_rule(), ratelimit.hashed(account, client_ip))
    if creds is None or not allowed or creds["password_hash"] is None:
        passwords.verify_password(DUMMY_HASH, body.password)  # the same work as a wrong password
        if creds is not None and allowed:  # an account that signs in only through a provider (issue 16)
            raise _no_password()
        security_log.record_failed_sign_in(body.username, device)
        raise _bad_credentials()
    if not passwords.verify_password(creds["password_hash"], body.password):
        security_log.record_failed_sign_in(body.username, device)
        raise _bad_credentials()
    if passwords.needs_rehash(creds["password_hash"]):
        new_hash = passwords.hash_password(body.password)
        db.run(lambda conn: users.update_password_hash(conn, creds["id"], new_hash))

    def sign_in(conn: psycopg.Connection) -> TokenPublic:
        pair, family = sessions.begin(conn, creds["id"], device)
        security_log.record(conn, creds["id"], "sign_in", device, family)
        return pair

    pair = db.run(sign_in)
    return SignedInPublic(user=ProfilePublic.model_validate(creds["profile"]), **pair.model_dump())


def change_password(user_id: uuid.UUID, body: PasswordUpdate, client_ip: str,
                    device: sessions.Device | None = None) -> TokenPublic:
    """Check the current password, store the new one, revoke every sign-in, return a fresh pair."""
    ratelimit.check(login_rule(), ratelimit.hashed(str(user_id), client_ip))
    account = db.run(lambda conn: users.get_account(conn, user_id))
    if account is None:
        raise UnauthorizedError("this account no longer exists")
    old_hash = account["password_hash"]
    if old_hash is None:  # signs in only through a provider (issue 16)
        raise _no_password()
    if not passwords.verify_password(old_hash, body.current_password):
        raise ForbiddenError("the current password is incorrect", code="invalid_credentials",
                             details=[{"field": "body.current_password", "message": N_("incorrect"),
                                       "type": "invalid"}])
    passwords.require_strong(body.new_password, username=account["username"], email=account["email"],
                            field="body.new_password")
    new_hash = passwords.hash_password(body.new_password)
    def restart(conn: psycopg.Connection) -> TokenPublic | None:
        started = sessions.restart_with_password(conn, user_id, old_hash, new_hash, device)
        if started is None:
            return None
        security_log.record(conn, user_id, "password_changed", device, started[1])
        return started[0]

    pair = db.run(restart)
    if pair is None:
        raise ConflictError("the password was changed by another request; sign in again")
    return pair


def me(user_id: uuid.UUID) -> ProfilePublic:
    """The caller's own profile, as GET /me/profile serves it."""
    row = db.run(lambda conn: users.get_user(conn, user_id))
    if row is None:
        raise UnauthorizedError("this account no longer exists")
    return ProfilePublic.model_validate(row["profile"])


def change_username(user_id: uuid.UUID, username: str, device: sessions.Device | None = None) -> ProfilePublic:
    """Rename the account. The old name stays reserved (``USERNAME_RESERVE_S``) so nobody can take over
    its public profile link; the owner may take it back. Written like a profile write (other devices
    hear of it), and the old name's cached public views are dropped with the new one's."""
    import psycopg

    taken = ConflictError("that username is already taken", code="already_exists", details=[
        {"field": "body.username", "message": N_("username already taken"), "type": "unique"}])

    def rename(conn: psycopg.Connection) -> dict | None:
        row = users.change_username(conn, user_id, username=username, reserve_s=get_settings().username_reserve_s)
        if row is not None:
            security_log.record(conn, user_id, "username_changed", device)
        return row

    try:
        row = db.run(rename)
    except psycopg.errors.UniqueViolation as exc:
        raise taken from exc
    if row is None:
        current = db.run(lambda conn: users.get_user(conn, user_id))
        if current is None:
            raise UnauthorizedError("this account no longer exists")
        if current["username"] == username:
            raise ConflictError("that is already your username", code="unchanged", details=[
                {"field": "body.username", "message": N_("unchanged"), "type": "unchanged"}])
        raise taken
    after_write(user_id, {**row["change"], "username": row["username"]})
    try:
        public_cache.invalidate(row["old_username"])
    except Exception as exc:  # the old name's views expire within minutes anyway
        logger.warning("old username's views not invalidated", extra={"error": type(exc).__name__})
    return ProfilePublic.model_validate(row["profile"])
