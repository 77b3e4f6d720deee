"""Sign-in with an external provider, the account half: which account an identity opens, first sign-ins,
linking and unlinking (issue 16). ``shared.identity.oauth`` has already proven who the user is there.

Rules:
- an identity (provider + subject) that is linked signs in to its account, whatever its e-mail says now;
- a first sign-in whose e-mail belongs to an existing account links to it **only** when the provider
  says the e-mail is verified *and* that account's own e-mail is verified (issue 15's
  ``users.email_verified_at``; before it exists every account counts as unverified). Anything else is
  a 409 ``account_exists``: sign in to that account and link the provider there. Auto-linking on an
  unverified address would let anyone who types the victim's e-mail at a provider take the account;
- otherwise a new account without a password is created with the provider's username; when that is
  taken or not a valid username the answer is a 409 ``username_unavailable`` carrying a single-use
  ``signup_token`` (10 minutes) to post with a chosen username to ``/auth/oauth/signup``;
- linking happens through the same start/callback with a bearer token: the flow remembers who started
  it and the callback must come from the same account; an identity already linked elsewhere is a 409;
- unlinking the last way to sign in (no password and no other identity) is a 409.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import secrets
import uuid
from typing import TYPE_CHECKING, Literal, NoReturn

from shared.clients import db
from shared.clients.redis import get_redis
from shared.core.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    OAuthFailedError,
    UnauthorizedError,
    UsernameUnavailableError,
    ValidationFailedError,
)
from shared.core.i18n import N_
from shared.core.observability import SIGN_UPS, count
from shared.core.settings import get_settings
from shared.identity import oauth, ratelimit, security_log, sessions
from shared.identity.oauth import ExternalProfile
from shared.models.oauth import (
    IdentityListPublic,
    IdentityPublic,
    OAuthCallbackCreate,
    OAuthResultPublic,
    OAuthSignupCreate,
    OAuthStartPublic,
)
from shared.models.profiles import ProfilePublic
from shared.repositories import identities, users

if TYPE_CHECKING:
    import psycopg

    from shared.models.accounts import TokenPublic

Outcome = Literal["signed_in", "created", "linked"]

SIGNUP_PREFIX = "oauth-signup:"
USERNAME = re.compile(r"^[a-z0-9_]{3,30}$")


def callback_rule() -> ratelimit.Rule:
    """Each callback costs calls to the provider: 20 a minute per IP (on top of the auth routes' 60)."""
    return ratelimit.Rule("oauth-callback", get_settings().oauth_callbacks_per_min)


def start(name: str, redirect_uri: str | None, user_id: uuid.UUID | None) -> OAuthStartPublic:
    url, state, ttl = oauth.start(name, redirect_uri, user_id)
    return OAuthStartPublic(authorization_url=url, state=state, expires_in=ttl,
                            intent="link" if user_id else "sign_in")


def callback(name: str, body: OAuthCallbackCreate, caller: uuid.UUID | None, client_ip: str) -> OAuthResultPublic:
    ratelimit.check(callback_rule(), ratelimit.hashed(client_ip))
    profile, flow = oauth.complete(name, body.code, body.state)
    if flow.user_id is not None:
        if caller != flow.user_id:
            raise ForbiddenError("linking must be finished by the account that started it",
                                 code="link_user_mismatch")
        return _link(flow.user_id, profile)
    return _sign_in(profile)


def _fields(profile: ExternalProfile) -> dict:
    return {"provider": profile.provider, "subject": profile.subject, "email": profile.email,
            "email_verified": profile.email_verified}


def _new_sign_in(conn: psycopg.Connection, user_id: uuid.UUID) -> TokenPublic:
    """A new sign-in (refresh family) written to the user's security log in the same transaction, like a
    password sign-in (issue 15's log)."""
    pair, family = sessions.begin(conn, user_id)
    security_log.record(conn, user_id, "sign_in", None, family)
    return pair


def _sign_in(profile: ExternalProfile) -> OAuthResultPublic:
    import psycopg

    with db.transaction() as conn:
        known = identities.touch(conn, **_fields(profile))
        if known is not None:
            pair = _new_sign_in(conn, known["user_id"])
            return _result_in(conn, "signed_in", known, pair)
    if not profile.email:
        raise ValidationFailedError("{provider} did not share an e-mail address; allow it and try again",
                                    code="email_required", params={"provider": profile.provider})
    existing = db.run(lambda conn: identities.account_by_email(conn, profile.email))
    if existing is not None:
        if not (profile.email_verified and existing["email_verified"]):
            _account_exists(profile)
        try:
            with db.transaction() as conn:
                linked = identities.insert(conn, user_id=existing["id"], **_fields(profile))
                pair = _new_sign_in(conn, existing["id"])
                return _result_in(conn, "signed_in", linked, pair)
        except (psycopg.errors.UniqueViolation, psycopg.errors.ForeignKeyViolation) as exc:
            # the same identity linked, or that account deleted, a moment ago
            raise ConflictError("this sign-in raced another; try again", code="conflict") from exc
    username = (profile.username or "").lower()
    if not USERNAME.fullmatch(username):
        _ask_username(profile, "invalid")
    return _create(profile, username)


def _result_in(conn: psycopg.Connection, outcome: Outcome, row: dict, pair: TokenPublic | None) -> OAuthResultPublic:
    """The answer, read inside the transaction that made it: the user, the identity, the pair if any."""
    user = users.get_user(conn, row["user_id"])
    assert user is not None  # the row was just read or written in this transaction
    tokens = pair.model_dump() if pair is not None else {}
    return OAuthResultPublic(outcome=outcome, user=ProfilePublic.model_validate(user["profile"]),
                             identity=IdentityPublic.model_validate(row["identity"]), **tokens)


def _account_exists(profile: ExternalProfile) -> NoReturn:
    raise ConflictError(
        "an account with this e-mail already exists; sign in to it and link {provider} from your settings",
        code="account_exists", params={"provider": profile.provider})


def _create(profile: ExternalProfile, username: str) -> OAuthResultPublic:
    """A new account without a password, its identity and its first sign-in, atomically."""
    import psycopg

    try:
        with db.transaction() as conn:
            # seam (issue 15): when the provider verified the e-mail, set users.email_verified_at too.
            user = users.create_user(conn, username=username, email=profile.email or "", password_hash=None,
                                     display_name=(profile.display_name or "")[:100] or None)
            if user is None:  # the name is reserved by a deleted account (issue 15's tombstone)
                _ask_username(profile, "taken")
            row = identities.insert(conn, user_id=user["id"], **_fields(profile))
            pair = _new_sign_in(conn, user["id"])
            result = _result_in(conn, "created", row, pair)
    except psycopg.errors.UniqueViolation as exc:
        constraint = getattr(getattr(exc, "diag", None), "constraint_name", None)
        if constraint == "users_username_key":
            _ask_username(profile, "taken")
        if constraint == "users_email_key":
            _account_exists(profile)
        raise ConflictError("this sign-in raced another; try again", code="conflict") from exc
    count(SIGN_UPS)  # committed
    return result


def _signup_key(token: str) -> str:
    return SIGNUP_PREFIX + hashlib.sha256(token.encode()).hexdigest()


def _ask_username(profile: ExternalProfile, reason: str) -> NoReturn:
    """Keep the proven identity for a short while and ask the user to choose a username."""
    token = secrets.token_urlsafe(32)
    get_redis().set(_signup_key(token), json.dumps(dataclasses.asdict(profile)), ex=get_settings().oauth_state_ttl_s)
    raise UsernameUnavailableError(
        "choose a username: the one from your provider is {why}",
        params={"why": N_("already taken") if reason == "taken" else N_("not valid")},
        details={"signup_token": token, "reason": reason, "field": "body.username"})


def complete_signup(body: OAuthSignupCreate) -> OAuthResultPublic:
    """Finish a first sign-in with the chosen username; the token works until an account is created."""
    key = _signup_key(body.signup_token)
    value = get_redis().get(key)
    if not value:
        raise OAuthFailedError("this sign-up is unknown, expired or finished; sign in again", code="invalid_state")
    profile = ExternalProfile(**json.loads(value))
    result = _create(profile, body.username)
    get_redis().delete(key)
    return result


def _link(user_id: uuid.UUID, profile: ExternalProfile) -> OAuthResultPublic:
    import psycopg

    try:
        with db.transaction() as conn:
            known = identities.touch(conn, **_fields(profile))
            if known is not None:
                if known["user_id"] != user_id:
                    raise ConflictError("this {provider} account already signs in to another account",
                                        code="identity_in_use", params={"provider": profile.provider})
                return _result_in(conn, "linked", known, None)
            row = identities.insert(conn, user_id=user_id, **_fields(profile))
            return _result_in(conn, "linked", row, None)
    except psycopg.errors.UniqueViolation as exc:
        raise ConflictError("this {provider} account already signs in to another account",
                            code="identity_in_use", params={"provider": profile.provider}) from exc
    except psycopg.errors.ForeignKeyViolation as exc:  # deleted while the provider was asked
        raise UnauthorizedError("this account no longer exists") from exc


def list_identities(user_id: uuid.UUID) -> IdentityListPublic:
    rows = db.run(lambda conn: identities.for_user(conn, user_id))
    account = db.run(lambda conn: users.get_account(conn, user_id))
    has_password = account is not None and account["password_hash"] is not None
    return IdentityListPublic(items=[IdentityPublic.model_validate(row) for row in rows], has_password=has_password)


def unlink(user_id: uuid.UUID, identity_id: uuid.UUID) -> None:
    with db.transaction() as conn:
        outcome = identities.unlink(conn, user_id=user_id, identity_id=identity_id)
    if outcome == "not_found":
        raise NotFoundError("no such identity on this account")
    if outcome == "last_method":
        raise ConflictError("this is the account's last way to sign in; set a password or link another "
                            "provider first", code="last_sign_in_method")
