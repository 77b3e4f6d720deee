"""Proving an address and getting back in: e-mail verification and password reset by mailed link.

Links carry 256 random bits, stored only as SHA-256 (like refresh tokens), single use, expiring, and
superseded by the next link of the same kind. "Forgot password" answers the same 202 whether or not
the address has an account, after the same work: it only enqueues ``{"email"}`` on the mail queue;
the mail worker (``deliver_reset``) looks the account up and mails it, out of the request's sight.
The mail worker has no CryptoLayer, so nothing here imports ``shared.passwords`` at module level.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

from shared.clients import aws, db
from shared.core import i18n
from shared.core.errors import (
    ConflictError,
    InvalidTokenError,
    MailUnavailableError,
)
from shared.core.i18n import N_
from shared.core.observability import logger
from shared.core.settings import get_settings
from shared.identity import ratelimit, security_log, sessions
from shared.mail import messages
from shared.mail.send import send
from shared.models.accounts import SignedInPublic
from shared.models.profiles import ProfilePublic
from shared.repositories import account_tokens
from shared.sync.notify import after_write

if TYPE_CHECKING:
    import psycopg

    from shared.identity.tokens import Principal

VERIFY, RESET, CHANGE = "verify_email", "reset_password", "change_email"


def _link(page: str, token: str) -> str:
    return f"{get_settings().public_app_url.rstrip('/')}/{page}?token={token}"


def send_verification(user_id: uuid.UUID, name: str) -> bool:
    """Mail a verification link for the user's current address; False when it is suppressed."""
    settings = get_settings()
    token, digest = sessions.new_refresh_token()
    email = db.run(lambda conn: account_tokens.issue(conn, user_id=user_id, purpose=VERIFY, token_hash=digest,
                                                     ttl_s=settings.verify_email_ttl_s))
    if email is None:
        return False
    mail = messages.verify_email(name, _link("verify-email", token), hours=settings.verify_email_ttl_s // 3600,
                                 locale=i18n.current())  # the request's: the user's setting, else their browser's
    send(mail, to=email, sender=settings.mail_from_email)
    return True


def resend_rule() -> ratelimit.Rule:
    return ratelimit.Rule("verify-resend", get_settings().verify_resend_per_hour, 3600)


def verify_email(token: str) -> ProfilePublic:
    """Use a verification link, or a change-of-address link (the new address becomes the user's and
    the old one is told). The profile change reaches the user's other devices like any profile write."""
    import psycopg

    def verify(conn: psycopg.Connection) -> dict | None:
        row = account_tokens.verify_email(conn, sessions.token_hash(token))
        if row is not None:
            kind = "email_changed" if row["purpose"] == CHANGE else "email_verified"
            security_log.record(conn, row["id"], kind)
        return row

    try:
        row = db.run(verify)
    except psycopg.errors.UniqueViolation as exc:
        raise ConflictError("another account uses this address now", code="already_exists", details=[
            {"field": "body.token", "message": N_("the new address is taken"), "type": "unique"}]) from exc
    if row is None:
        raise InvalidTokenError("this link is invalid, used or expired; ask for a new one")
    after_write(row["id"], {**row["change"], "username": row["username"]})
    if row["purpose"] == CHANGE:
        try:
            send(messages.email_changed(row["name"], row["profile"]["email"], locale=i18n.pick(row["locale"])),
                 to=row["old_email"],
                 sender=get_settings().mail_from_email)
        except MailUnavailableError:
            logger.warning("old address not told of the change", extra={"user_id": str(row["id"])})
    return ProfilePublic.model_validate(row["profile"])


def request_email_change(principal: Principal, password: str | None, new_email: str, client_ip: str) -> None:
    """Confirm it is the user (the password, or a fresh sign-in: ``shared.identity.reauth``), then mail
    a link to the new address; the address switches only when that link is used (``verify_email``)."""
    from shared.identity import reauth

    user_id = principal.user_id
    account = reauth.confirm(principal, password, client_ip)
    if new_email.lower() == account["email"].lower():
        raise ConflictError("that is already your address", code="unchanged",
                            details=[{"field": "body.new_email", "message": N_("unchanged"), "type": "unchanged"}])
    settings = get_settings()
    token, digest = sessions.new_refresh_token()

    def issue(conn: psycopg.Connection) -> str | None:
        if account_tokens.email_in_use(conn, new_email):
            raise ConflictError("that email is already taken", code="already_exists", details=[
                {"field": "body.new_email", "message": N_("email already taken"), "type": "unique"}])
        return account_tokens.issue_change(conn, user_id=user_id, email=new_email, token_hash=digest,
                                           ttl_s=settings.verify_email_ttl_s)

    if db.run(issue) is None:
        raise ConflictError("mail to this address bounced or was marked as spam; use another address",
                            code="email_suppressed")
    mail = messages.confirm_new_email(account["username"], _link("verify-email", token),
                                      hours=settings.verify_email_ttl_s // 3600, locale=i18n.current())
    send(mail, to=new_email, sender=settings.mail_from_email)


def forgot_rules() -> tuple[ratelimit.Rule, ratelimit.Rule]:
    settings = get_settings()
    return (ratelimit.Rule("forgot-ip", settings.forgot_per_ip_per_hour, 3600),
            ratelimit.Rule("forgot-email", settings.forgot_per_email_per_hour, 3600))


def request_reset(email: str, client_ip: str, device: sessions.Device | None = None) -> None:
    """Throttle (per IP, per address typed; failing closed) and enqueue; the same work for every address."""
    by_ip, by_email = forgot_rules()
    ratelimit.check(by_ip, ratelimit.hashed(client_ip))
    ratelimit.check(by_email, ratelimit.hashed(email.lower()))
    url = get_settings().mail_queue_url
    if not url:  # a stage without the mail queue cannot recover accounts: say so, never 500
        raise MailUnavailableError("account recovery is not configured on this stage")
    device = device or sessions.Device()
    body = {"v": 1, "kind": RESET, "email": email, "ip_prefix": device.ip_prefix, "device_name": device.name,
            "lang": i18n.current()}  # the asker's language, for an account that chose none
    aws.client("sqs").send_message(QueueUrl=url, MessageBody=json.dumps(body))


def deliver_reset(email: str, requested_from: sessions.Device | None = None, lang: str | None = None) -> bool:
    """The mail worker's half: mail a reset link if the address has an account; whether one was sent."""
    settings = get_settings()
    account = db.run(lambda conn: account_tokens.recoverable(conn, email))
    if account is None:
        return False
    token, digest = sessions.new_refresh_token()
    def issue(conn: psycopg.Connection) -> str | None:
        to = account_tokens.issue(conn, user_id=account["id"], purpose=RESET, token_hash=digest,
                                  ttl_s=settings.reset_password_ttl_s)
        if to is not None:
            security_log.record(conn, account["id"], "password_reset_requested", requested_from)
        return to

    to = db.run(issue)
    if to is None:
        return False
    mail = messages.reset_password(account["name"], _link("reset-password", token),
                                   minutes=settings.reset_password_ttl_s // 60,
                                   locale=i18n.pick(account.get("locale"), fallback=lang))
    send(mail, to=to, sender=settings.mail_from_email)
    return True


def handle_mail_message(body: str) -> bool:
    """One mail-queue record: ``{"v": 1, "kind": "reset_password", "email"}``, or (issue 15, migration
    019) ``{"v": 1, "kind": "verify_email", "user_id"}``, maintenance's one invitation to verify."""
    message: dict[str, Any] = json.loads(body)
    if message.get("v") == 1 and message.get("kind") == VERIFY and isinstance(message.get("user_id"), str):
        return invite_to_verify(uuid.UUID(message["user_id"]))
    if message.get("v") != 1 or message.get("kind") != RESET or not isinstance(message.get("email"), str):
        logger.warning("unknown mail message dropped", extra={"kind": message.get("kind")})
        return False
    device = sessions.Device(name=message.get("device_name"), ip_prefix=message.get("ip_prefix"))
    return deliver_reset(message["email"], device, message.get("lang"))


def invite_to_verify(user_id: uuid.UUID) -> bool:
    """Mail a verification link to an account that predates verification, unless it was verified (or
    deleted) meanwhile or its address is suppressed; whether one was sent."""
    account = db.run(lambda conn: account_tokens.invitee(conn, user_id))
    return account is not None and send_verification(user_id, account["name"])


def reset_password(token: str, new_password: str, device: sessions.Device) -> SignedInPublic:
    """Set the new password with a mailed link, revoke every sign-in, and start this one."""
    from shared.identity import passwords  # argon2 and zxcvbn: only the auth function (CryptoLayer) resets passwords

    digest = sessions.token_hash(token)
    account = db.run(lambda conn: account_tokens.peek_reset(conn, digest))
    if account is None:
        raise InvalidTokenError("this link is invalid, used or expired; ask for a new one")
    passwords.require_strong(new_password, username=account["username"], email=account["email"],
                             field="body.new_password")
    password_hash = passwords.hash_password(new_password)
    refresh, refresh_hash = sessions.new_refresh_token()
    def reset(conn: psycopg.Connection) -> dict | None:
        row = account_tokens.reset_password(
            conn, token_hash=digest, password_hash=password_hash, refresh_hash=refresh_hash,
            idle_s=get_settings().refresh_idle_ttl_s, device_name=device.name, ip_prefix=device.ip_prefix)
        if row is not None:
            security_log.record(conn, row["id"], "password_reset", device, row["family_id"])
        return row

    row = db.run(reset)
    if row is None:  # used by a concurrent request between the peek and now
        raise InvalidTokenError("this link is invalid, used or expired; ask for a new one")
    pair = sessions.pair(row["id"], refresh, row["family_id"], row["profile"].get("locale"), signed_in=True)
    return SignedInPublic(user=ProfilePublic.model_validate(row["profile"]), **pair.model_dump())
