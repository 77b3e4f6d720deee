"""Auth function: accounts, sign-in, rotating refresh tokens, and the public signing keys.

Routes (all under /api/v1): POST auth/register, auth/login, auth/refresh, auth/logout,
auth/logout-all, auth/password, auth/email/verify, auth/email/verify/resend, auth/password/forgot,
auth/password/reset; GET auth/me; GET .well-known/jwks.json; GET me/sessions, DELETE me/sessions/{id},
GET me/security-events; POST me/email; PUT me/username; DELETE me;
GET me/export, GET me/export/history.csv, POST me/import; through the bucket: POST me/export,
POST me/import/upload, POST me/import/uploaded. Sign-in with Google, Discord, Facebook
(issue 16): GET auth/oauth/{provider}/start, POST auth/oauth/{provider}/callback, POST auth/oauth/signup;
GET me/identities, DELETE me/identities/{identity_id}.
Credential-handling routes pass the per-IP limit first; it fails closed (503) when Redis is unreachable.
"""

from __future__ import annotations

import uuid
from typing import Annotated

import shared.core.coldstart  # noqa: F401 - first: pauses the GC during the imports below

from fastapi import Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from mangum import Mangum

from shared.clients import db
from shared.core.encoding import json_bytes
from shared.core.errors import ConflictError, UnauthorizedError
from shared.core.observability import observed
from shared.http.app import api_router, create_app
from shared.http.auth import ClientIp, CurrentPrincipal, CurrentUser, OptionalUser, ThisDevice
from shared.http.openapi import documented, merged
from shared.http.responses import TOKEN_HEADERS, no_content, no_store_json, respond
from shared.identity import (
    accounts,
    devices,
    erasure,
    handoff,
    identities,
    keys,
    portability,
    ratelimit,
    recovery,
    security_log,
    sessions,
)
from shared.models.accounts import (
    AcceptedPublic,
    AccountDelete,
    AccountExport,
    AccountImport,
    EmailChangeCreate,
    EmailVerifyCreate,
    ExportCreate,
    ExportLinkPublic,
    ImportPublic,
    ImportUploadedCreate,
    ImportUploadPublic,
    LoginCreate,
    PasswordForgotCreate,
    PasswordResetCreate,
    PasswordUpdate,
    RefreshCreate,
    RegisteredPublic,
    SecurityEventsPublic,
    SessionsPublic,
    SignedInPublic,
    TokenPublic,
    UserCreate,
    UsernameUpdate,
)
from shared.models.oauth import (
    IdentityListPublic,
    OAuthCallbackCreate,
    OAuthResultPublic,
    OAuthSignupCreate,
    OAuthStartPublic,
)
from shared.models.profiles import ProfilePublic
from shared.repositories import users

JWKS_CACHING = "public, max-age=300"
FORGOT_ANSWER = AcceptedPublic(message="If an account uses this address, a mail with a link to choose a new "
                                       "password is on its way. The link works once, for a limited time.")
router = api_router("/auth", tags=["auth"])
jwks_router = api_router("/.well-known", tags=["auth"])
identities_router = api_router("/me/identities", tags=["auth"])
Provider = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_-]{0,31}$")]
account_router = api_router("/me", tags=["account"])  # issue 15: the account's devices, log and lifecycle


@router.post("/register", status_code=201, response_model=RegisteredPublic, **documented("auth.register", 409))
async def register(body: UserCreate, _: ClientIp, this: ThisDevice) -> Response:
    """Create the account and sign in; a link to verify the e-mail address is mailed."""
    return no_store_json(accounts.register(body, this), status=201, headers=TOKEN_HEADERS)


@router.post("/login", response_model=SignedInPublic, **documented("auth.login", 401, 409))
async def login(body: LoginCreate, ip: ClientIp, this: ThisDevice) -> Response:
    if body.device_name:
        this = sessions.Device(name=body.device_name, ip_prefix=this.ip_prefix)
    return no_store_json(accounts.login(body, ip, this), headers=TOKEN_HEADERS)


@router.post("/refresh", response_model=TokenPublic, **documented("auth.refresh", 401))
async def refresh(body: RefreshCreate, _: ClientIp) -> Response:
    return no_store_json(db.run(lambda conn: sessions.refresh(conn, body.refresh_token)), headers=TOKEN_HEADERS)


@router.post("/logout", status_code=204, response_class=Response, **documented("auth.logout"))
async def logout(body: RefreshCreate, _: ClientIp) -> Response:
    """This device: revoke the sign-in (family) of the given refresh token."""
    db.run(lambda conn: sessions.end(conn, body.refresh_token))
    return no_content()


@router.post("/logout-all", status_code=204, response_class=Response, **documented("auth.logoutAll"))
async def logout_all(user_id: CurrentUser, _: ClientIp, this: ThisDevice) -> Response:
    """Every device: revoke all of the caller's sign-ins."""
    devices.sign_out_everywhere(user_id, this)
    return no_content()


@router.post("/password", response_model=TokenPublic, **documented("auth.changePassword", 403, 409))
async def change_password(body: PasswordUpdate, user_id: CurrentUser, ip: ClientIp, this: ThisDevice) -> Response:
    return no_store_json(accounts.change_password(user_id, body, ip, this), headers=TOKEN_HEADERS)


@router.post("/email/verify", response_model=ProfilePublic, **documented("auth.verifyEmail", 409))
async def verify_email(body: EmailVerifyCreate, _: ClientIp) -> Response:
    """Use the token of a verification mail (once, before it expires); answers the verified profile."""
    return no_store_json(recovery.verify_email(body.token))


@router.post("/email/verify/resend", status_code=202, response_model=AcceptedPublic,
             **documented("auth.resendVerification", 409, status=202))
async def resend_verification(user_id: CurrentUser, _: ClientIp) -> Response:
    """Mail a new verification link (the previous one stops working); 3 an hour."""
    ratelimit.check(recovery.resend_rule(), ratelimit.hashed(str(user_id)))
    user = db.run(lambda conn: users.get_user(conn, user_id))
    if user is None:
        raise UnauthorizedError("this account no longer exists")
    if user["profile"]["email_verified"]:
        raise ConflictError("this address is already verified", code="already_verified")
    if not recovery.send_verification(user_id, user["display_name"] or user["username"]):
        raise ConflictError("mail to this address bounced or was marked as spam; use another address",
                            code="email_suppressed")
    return no_store_json(AcceptedPublic(message="A new verification link is on its way."), status=202)


@router.post("/password/forgot", status_code=202, response_model=AcceptedPublic,
             **documented("auth.forgotPassword", status=202))
async def forgot_password(body: PasswordForgotCreate, ip: ClientIp, this: ThisDevice) -> Response:
    """Always the same 202 and body, after the same work, whether or not an account uses the address."""
    recovery.request_reset(str(body.email), ip, this)
    return no_store_json(FORGOT_ANSWER, status=202)


@router.post("/password/reset", response_model=SignedInPublic, **documented("auth.resetPassword"))
async def reset_password(body: PasswordResetCreate, _: ClientIp, this: ThisDevice) -> Response:
    """Set a new password with a mailed token: every session is revoked and a fresh pair returned."""
    return no_store_json(recovery.reset_password(body.token, body.new_password, this), headers=TOKEN_HEADERS)


@router.get("/me", response_model=ProfilePublic, **documented("auth.me"))
async def me(user_id: CurrentUser) -> Response:
    return no_store_json(accounts.me(user_id))


@account_router.delete("", status_code=204, response_class=Response, **documented("account.delete", 403, 409))
async def delete_account(principal: CurrentPrincipal, ip: ClientIp, body: AccountDelete | None = None) -> Response:
    """Erase the account: everything in it, its files, its sessions and sockets; the username stays
    reserved; a confirmation is mailed. Needs the password, or a token from a sign-in of the last few
    minutes (accounts without a password sign in again with their provider). Afterwards this token gets 401."""
    erasure.delete_account(principal, body.password if body else None, ip)
    return no_content()


@account_router.post("/email", status_code=202, response_model=AcceptedPublic,
                     **documented("account.changeEmail", 403, 409, status=202))
async def change_email(body: EmailChangeCreate, principal: CurrentPrincipal, ip: ClientIp) -> Response:
    """Move the account to another address: needs the password or a fresh sign-in (as DELETE /me); a
    link goes to the new address and the switch happens when it is used (POST /auth/email/verify); the
    old address is then told."""
    recovery.request_email_change(principal, body.password, str(body.new_email), ip)
    return no_store_json(AcceptedPublic(message="A link to confirm the new address is on its way to it."),
                         status=202)


@account_router.put("/username", response_model=ProfilePublic, **documented("account.changeUsername", 409))
async def change_username(body: UsernameUpdate, user_id: CurrentUser, this: ThisDevice) -> Response:
    """Rename the account; the old name stays reserved (its public link cannot be taken over)."""
    return no_store_json(accounts.change_username(user_id, body.username, this))


EXPORT_REDIRECT = {303: {"description": "Too large to answer inline: Location is a presigned link to the "
                                         "document in the bucket (as POST /me/export gives)",
                          "headers": {"Location": {"schema": {"type": "string"}}}}}


@account_router.get("/export", response_model=AccountExport, **merged(documented("account.export"), EXPORT_REDIRECT))
async def export_account(user_id: CurrentUser) -> Response:
    """Everything the account holds as one JSON document, produced page by page (a download). An
    account whose document would not fit an API Gateway answer gets a 303 to it in the bucket."""
    ratelimit.throttle_data_transfer(user_id)
    if not portability.inline_fits(user_id):
        link = portability.export_to_storage(user_id, "json")
        return Response(status_code=303, headers={"Location": link.url, "Cache-Control": "no-store"})
    username, chunks = portability.export_json(user_id)
    return StreamingResponse(chunks, media_type="application/json", headers=_download(f"atribuo-{username}.json"))


@account_router.post("/export", response_model=ExportLinkPublic, **documented("account.exportToStorage"))
async def export_to_storage(user_id: CurrentUser, body: ExportCreate | None = None) -> Response:
    """Put the export (JSON, or the history CSV) in the bucket, whatever its size, and answer a
    presigned link to download it for the next 15 minutes; the file is deleted after a day."""
    ratelimit.throttle_data_transfer(user_id)
    return no_store_json(portability.export_to_storage(user_id, (body or ExportCreate()).format))


@account_router.get("/export/history.csv", response_class=Response, **merged(documented("account.exportHistory"), {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}},
          "description": "One row per level change (superseded ones marked)"}}))
async def export_history(user_id: CurrentUser) -> Response:
    """The full level history as CSV, one row per change."""
    ratelimit.throttle_data_transfer(user_id)
    username, chunks = portability.export_history_csv(user_id)
    return StreamingResponse(chunks, media_type="text/csv; charset=utf-8",
                             headers=_download(f"atribuo-{username}-history.csv"))


@account_router.post("/import", response_model=ImportPublic, **documented("account.import", 409))
async def import_account(body: AccountImport, user_id: CurrentUser) -> Response:
    """Put a ``GET /me/export`` document into this account (it must have no skills), through the same
    writes as the app (versions, change log, pushes). Running it again changes nothing."""
    ratelimit.throttle_data_transfer(user_id)
    return no_store_json(portability.import_account(user_id, body))


@account_router.post("/import/upload", response_model=ImportUploadPublic, **documented("account.importUpload"))
async def import_upload(user_id: CurrentUser) -> Response:
    """Where to upload an export file too large for ``POST /me/import`` (the request body limit): then
    ``POST /me/import/uploaded`` with the ``key``."""
    ratelimit.throttle_data_transfer(user_id)
    return no_store_json(handoff.presign_import(user_id))


@account_router.post("/import/uploaded", response_model=ImportPublic,
                     **documented("account.importUploaded", 404, 409))
async def import_uploaded(body: ImportUploadedCreate, user_id: CurrentUser) -> Response:
    """Import the file uploaded to ``key`` (as ``POST /me/import`` does with a body); the file is deleted."""
    ratelimit.throttle_data_transfer(user_id)
    return no_store_json(portability.import_uploaded(user_id, body.key))


def _download(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"}


@account_router.get("/sessions", response_model=SessionsPublic, **documented("account.sessions"))
async def list_sessions(principal: CurrentPrincipal) -> Response:
    """Every signed-in device: name, coarse location, created, last used; ``current`` marks this one."""
    return no_store_json(devices.devices(principal.user_id, principal.session_id))


@account_router.delete("/sessions/{session_id}", status_code=204, response_class=Response,
                       **documented("account.signOutDevice", 404))
async def sign_out_device(session_id: uuid.UUID, user_id: CurrentUser, this: ThisDevice) -> Response:
    """Sign that device out: its refresh token stops working at once and its WebSockets are closed."""
    devices.sign_out_device(user_id, session_id, this)
    return no_content()


@account_router.get("/security-events", response_model=SecurityEventsPublic, **documented("account.securityEvents"))
async def security_events(user_id: CurrentUser, limit: Annotated[int, Query(ge=1, le=100)] = 50,
                          before: Annotated[int | None, Query(ge=1, le=2**62)] = None) -> Response:
    """The account's security log, newest first: sign-ins and failures, password changes and resets,
    verified addresses, devices signed out. Page with ``before`` = the previous page's ``next_before``."""
    return no_store_json(security_log.events(user_id, before=before, limit=limit))


@jwks_router.get("/jwks.json", **documented("auth.jwks", conditional=True))
async def jwks(request: Request) -> Response:
    """The public signing keys. Cacheable for 5 minutes: a new key is published well before it signs."""
    return respond(request, json_bytes(keys.jwks()), cache_control=JWKS_CACHING)


@router.get("/oauth/{provider}/start", response_model=OAuthStartPublic, **documented("auth.oauthStart", 401, 404))
async def oauth_start(provider: Provider, caller: OptionalUser, _: ClientIp,
                      redirect_uri: Annotated[str | None, Query(max_length=2048)] = None) -> Response:
    """The provider's authorize URL (state, PKCE S256, nonce kept server-side). With a bearer token the
    flow links the provider to the caller's account instead of signing in."""
    return no_store_json(identities.start(provider, redirect_uri, caller))


@router.post("/oauth/{provider}/callback", response_model=OAuthResultPublic,
             **documented("auth.oauthCallback", 401, 403, 404, 409))
async def oauth_callback(provider: Provider, body: OAuthCallbackCreate, caller: OptionalUser, ip: ClientIp) -> Response:
    """Post the ``code`` and ``state`` the provider redirected with: a token pair and the user (or, when
    linking, the new identity)."""
    return no_store_json(identities.callback(provider, body, caller, ip), headers=TOKEN_HEADERS)


@router.post("/oauth/signup", response_model=OAuthResultPublic, **documented("auth.oauthSignup", 409))
async def oauth_signup(body: OAuthSignupCreate, _: ClientIp) -> Response:
    """Finish a first sign-in whose provider username was taken or invalid, with a chosen username."""
    return no_store_json(identities.complete_signup(body), headers=TOKEN_HEADERS)


@identities_router.get("", response_model=IdentityListPublic, **documented("identities.list"))
async def list_identities(user_id: CurrentUser) -> Response:
    return no_store_json(identities.list_identities(user_id))


@identities_router.delete("/{identity_id}", status_code=204, response_class=Response,
                          **documented("identities.delete", 404, 409))
async def unlink_identity(identity_id: uuid.UUID, user_id: CurrentUser, _: ClientIp) -> Response:
    """Unlink a provider; 409 when it is the account's last way to sign in."""
    identities.unlink(user_id, identity_id)
    return no_content()


app = create_app(router, jwks_router, identities_router, account_router)
handler = observed(Mangum(app, lifespan="off"))  # ColdStart, and metrics flushed once per invocation
