"""Step-up for the routes that can take an account away (issue 15): the password, or a fresh sign-in.

A stolen access token alone must not erase an account or move it to another address, so these routes
ask the caller to prove again who they are. Two proofs count: the current password, or an access
token whose ``auth_time`` (set when the user signed in — password, provider, reset link — and never
by ``/auth/refresh``) is at most ``reauth_window_s`` old. The second is what an account without a
password (signed up with Google, Discord, Facebook: issue 16) has: it runs the provider flow again and
calls the route with the new token. A password check is a guess, so it is throttled like a sign-in.
"""

from __future__ import annotations

import time
import uuid

from shared.clients import db
from shared.core.errors import ForbiddenError, PasswordNotSetError, ReauthenticationRequiredError, UnauthorizedError
from shared.core.i18n import N_
from shared.core.settings import get_settings
from shared.identity import ratelimit
from shared.identity.tokens import Principal
from shared.repositories import users


def recently_signed_in(principal: Principal) -> bool:
    """The token was minted by a sign-in at most ``reauth_window_s`` ago (a little clock skew allowed)."""
    if principal.auth_time is None:
        return False
    age = time.time() - principal.auth_time
    return -get_settings().jwt_leeway_s <= age <= get_settings().reauth_window_s


def confirm(principal: Principal, password: str | None, client_ip: str) -> dict:
    """The account (``users.get_account``) once the caller has proved who they are, else an error:
    403 ``invalid_credentials`` (wrong password), 409 ``password_not_set`` (a password for an account
    that has none), 403 ``reauthentication_required`` (no password and no fresh sign-in), 401 when the
    account is gone."""
    from shared.identity.accounts import login_rule  # the sign-in limit: a password check is a guess

    user_id: uuid.UUID = principal.user_id
    if password is not None:
        ratelimit.check(login_rule(), ratelimit.hashed(str(user_id), client_ip))
    account = db.run(lambda conn: users.get_account(conn, user_id))
    if account is None:
        raise UnauthorizedError("this account no longer exists")
    if password is None:
        if not recently_signed_in(principal):
            raise ReauthenticationRequiredError(
                "confirm it is you: send your password, or sign in again (with your password or the provider "
                "you use) and retry within {minutes} minutes",
                params={"minutes": max(1, get_settings().reauth_window_s // 60)},
                details=[{"field": "body.password", "message": N_("required without a fresh sign-in"),
                          "type": "reauthentication_required"}])
        return account
    if account["password_hash"] is None:
        raise PasswordNotSetError("this account has no password; sign in again with your provider and retry "
                                  "without one")
    from shared.identity import passwords  # argon2: the CryptoLayer, only where passwords are checked

    if not passwords.verify_password(account["password_hash"], password):
        raise ForbiddenError("the password is incorrect", code="invalid_credentials",
                             details=[{"field": "body.password", "message": N_("incorrect"), "type": "invalid"}])
    return account
