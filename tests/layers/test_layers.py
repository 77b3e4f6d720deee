"""The pruned layers still work: every function imports, and every HTTP function serves, with only its layers.

Each probe is a fresh ``python -S`` (no site-packages, so none of the dev tools) whose PYTHONPATH is the
repo root plus the host builds of exactly the layers template.yaml gives that function after SAM's
Globals merge, built by the same Makefile targets ``sam build`` runs (bench.package_size.layer_dir,
cached under .local/bench/ by content hash). The host build is compiled by this interpreter, so it is
sourceless bytecode like the Lambda build.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.package_size import host_pythonpath
from local.template import ROOT, function_layers, functions, http_routes
from tests.support import http_event, load_event
from tests.support.users import TEST_PASSWORD

# The functions that sign/verify tokens or hash passwords (shared.identity: tokens, keys, passwords).
CRYPTO = {"AuthFunction", "SkillsFunction", "ProfilesFunction", "RealtimeFunction", "UploadsFunction"}
# Issue 15: the functions that check password strength and name devices (zxcvbn, ua-parser: the OAuthLayer).
PASSWORD_POLICY = {"AuthFunction"}

IMPORT_PROBE = """
import gc, importlib, importlib.util, json, sys
importlib.import_module(sys.argv[1])
gc_enabled = gc.isenabled()
names = ("cryptography", "jwt", "argon2", "zxcvbn", "ua_parser", "ua_parser_builtins", "dns", "cffi", "pycparser",
         "boto3", "pydantic")
report = {
    "gc_enabled": gc_enabled,
    "imported_crypto": sorted(m for m in ("cryptography", "jwt", "argon2", "_cffi_backend") if m in sys.modules),
    "sourceless": sorted({name.split(".")[0] for name, m in list(sys.modules.items())
                          if (getattr(m, "__file__", None) or "").endswith(".pyc")}),
    "present": {name: importlib.util.find_spec(name) is not None for name in names},
}
report["present"]["pydantic.v1"] = report["present"]["pydantic"] and importlib.util.find_spec("pydantic.v1") is not None
if report["present"]["cryptography"]:
    import argon2, jwt
    from cryptography.hazmat.primitives.asymmetric import rsa
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode({"sub": "probe"}, key, algorithm="RS256")
    report["has_crypto"] = jwt.algorithms.has_crypto
    report["rs256"] = jwt.decode(token, key.public_key(), algorithms=["RS256"])["sub"] == "probe"
    report["argon2"] = argon2.PasswordHasher().verify(argon2.PasswordHasher().hash("pw"), "pw")
if report["present"]["zxcvbn"]:
    from zxcvbn import zxcvbn
    report["zxcvbn"] = [zxcvbn(pw)["score"] for pw in ("password", "correct horse battery staple")]
if report["present"]["ua_parser"]:
    from shared.identity.sessions import device_name
    report["device"] = device_name("Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0")
print(json.dumps(report))
"""


def _run(function: str, *args: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": host_pythonpath(function)}
    done = subprocess.run([sys.executable, "-S", *args], capture_output=True, text=True, cwd=ROOT, env=env,
                          timeout=120)
    assert done.returncode == 0, f"{function}:\n{done.stderr[-4000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def _module(function: str) -> str:
    props = functions()[function]["Properties"]
    return ".".join([*Path(props["CodeUri"]).parts, props.get("Handler", "app.handler").split(".")[0]])


CARD_PROBE = """
import json, struct, sys
from shared.public.card import render_card
from shared.public.character import build_stats
from shared.public.png import render_png
png = render_png(render_card({"username": "probe", "display_name": "Probe"}, build_stats([])))
print(json.dumps({"size": list(struct.unpack(">II", png[16:24])), "png": png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"}))
"""


def test_the_card_layer_goes_to_the_profiles_function_only_and_draws_there():
    """resvg (card.png) is in ProfilesFunction's layers and nowhere else, and renders with only them."""
    assert {name for name in functions() if "CardLayer" in function_layers(name)} == {"ProfilesFunction"}
    assert _run("ProfilesFunction", "-c", CARD_PROBE) == {"size": [1200, 630], "png": True}


MEDIA_PROBE = """
import importlib.util, io, json
from PIL import Image
from shared.media.images import variants
report = {}
for fmt, ctype in (("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")):
    buffer = io.BytesIO()
    Image.new("RGB", (300, 200), (1, 2, 3)).save(buffer, fmt)
    sizes = {size: Image.open(io.BytesIO(data)) for size, data in variants(buffer.getvalue(), ctype).items()}
    report[fmt] = {str(size): [image.format, *image.size] for size, image in sizes.items()}
report["pruned"] = [m for m in ("PIL._avif", "PIL._imagingft", "PIL._imagingcms") if importlib.util.find_spec(m)]
print(json.dumps(report))
"""


def test_the_media_layer_goes_to_the_uploads_function_only_and_makes_webp_sizes_there():
    """Pillow (issue 17: avatar sizes) is in UploadsFunction's layers and nowhere else, and encodes WebP
    with only them (its wheel bundles libwebp: no system library is needed)."""
    assert {name for name in functions() if "MediaLayer" in function_layers(name)} == {"UploadsFunction"}
    sizes = {"64": ["WEBP", 64, 64], "128": ["WEBP", 128, 128], "256": ["WEBP", 256, 256]}
    assert _run("UploadsFunction", "-c", MEDIA_PROBE) == {"JPEG": sizes, "PNG": sizes, "WEBP": sizes, "pruned": []}


def test_the_crypto_layer_goes_to_exactly_the_token_and_password_functions():
    assert {name for name in functions() if "CryptoLayer" in function_layers(name)} == CRYPTO
    assert function_layers("NotFoundFunction") == []  # IgnoreGlobals: not even the Globals layers
    assert function_layers("HealthFunction") == ["SharedLayer", "DepsLayer"]


@pytest.mark.parametrize("function", sorted(functions()))
def test_each_function_imports_with_only_its_own_layers(function):
    report = _run(function, "-c", IMPORT_PROBE, _module(function))
    present = report["present"]
    assert report["gc_enabled"], "importing the function left the garbage collector paused (shared.core.coldstart)"
    pruned = {name: present[name] for name in ("dns", "cffi", "pycparser", "boto3", "pydantic.v1")}
    assert not any(pruned.values()), pruned
    if function in CRYPTO:
        assert report["has_crypto"] and report["rs256"] and report["argon2"], report
    if function in PASSWORD_POLICY:
        assert report["zxcvbn"] == [0, 4], report  # the password policy's estimator, with its dictionaries
        assert report["device"] == "Firefox on Android", report  # ua-parser with its rules
    else:  # issue 15: neither ships to a function that never checks a password or names a device
        assert not (present["zxcvbn"] or present["ua_parser"] or present["ua_parser_builtins"]), present
    if function not in CRYPTO:
        assert report["imported_crypto"] == [], f"{function} imports {report['imported_crypto']}"
        assert not (present["cryptography"] or present["jwt"] or present["argon2"] or present["zxcvbn"]), present
    if function_layers(function):
        assert "pydantic" in report["sourceless"], "the host layer should be sourceless bytecode"


def _probe_events(make_user) -> dict[str, tuple[dict, int]]:
    """One real request per HTTP function, and the status a user gets for it."""
    from shared.digests import unsubscribe

    user, auth = make_user("quester", email="quester@example.com")
    authed = {}
    for name in ("event-get-skills", "event-get-me-stats", "event-get-sync"):
        authed[name] = load_event(name)
        authed[name]["headers"]["authorization"] = auth["authorization"]
    login = load_event("event-post-auth-login")
    login["body"] = json.dumps({"username": "quester@example.com", "password": TEST_PASSWORD})
    unsub = load_event("event-get-digest-unsubscribe")
    token = unsubscribe.make_token(user["id"])
    unsub["rawQueryString"], unsub["queryStringParameters"] = f"token={token}", {"token": token}
    return {
        "HealthFunction": (load_event("event-get-health"), 200),
        "AuthFunction": (login, 200),  # argon2 verify + RS256 signing
        "SkillsFunction": (authed["event-get-skills"], 200),  # RS256 verification from here on
        "ProfilesFunction": (authed["event-get-me-stats"], 200),
        "RealtimeFunction": (authed["event-get-sync"], 200),
        "UploadsFunction": (http_event("DELETE", "/api/v1/me/avatar", headers=auth), 204),
        "DigestFunction": (unsub, 200),
        "NotFoundFunction": (http_event("GET", "/api/v1/nowhere"), 404),
    }


def test_each_http_function_serves_a_request_with_only_its_own_layers(make_user, tmp_path):
    probes = _probe_events(make_user)
    assert set(probes) == {route.function for route in http_routes()}
    statuses = {}
    for function, (event, _) in probes.items():
        path = tmp_path / f"{function}.json"
        path.write_text(json.dumps(event))
        statuses[function] = _run(function, "-m", "bench.cold_probe", _module(function), str(path))["status"]
    assert statuses == {function: status for function, (_, status) in probes.items()}


# Issue 16: the auth function's OAuth sign-in runs on Authlib (client) and joserfc (ID tokens) from the
# CryptoLayer and OAuthLayer: the authorize URL with PKCE, and an RS256 ID token verified while `alg: none` is refused.
OAUTH_PROBE = """
import json, sys
from shared.identity import oauth
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
provider = oauth.Provider(name="probe", protocol="oidc", authorize_url="https://idp.example/authorize",
                          token_url="https://idp.example/token", scope="openid email", profile="oidc",
                          client_id="client", client_secret="secret", issuers=("https://idp.example",),
                          jwks_uri="https://idp.example/jwks")
with oauth._client(provider, "https://app.example/cb") as client:
    url, _ = client.create_authorization_url(provider.authorize_url, state="s", code_verifier="v" * 64, nonce="n")
oauth._jwks[provider.jwks_uri] = (float("inf"), KeySet([key]).as_dict(private=False))
claims = {"iss": "https://idp.example", "aud": "client", "sub": "42", "iat": 1, "exp": 2**31, "nonce": "n"}
good = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)
verified = oauth.verify_id_token(provider, good, "n")["sub"]
header, payload, _ = good.split(".")
import base64
none = base64.urlsafe_b64encode(b'{"alg":"none","kid":"k1"}').rstrip(b"=").decode() + "." + payload + "."
try:
    oauth.verify_id_token(provider, none, "n")
    refused = False
except Exception as exc:
    refused = type(exc).__name__ == "OAuthFailedError"
print(json.dumps({"pkce": "code_challenge_method=S256" in url, "verified": verified, "none_refused": refused}))
"""


def test_the_oauth_layer_goes_only_to_the_auth_function():
    assert {name for name in functions() if "OAuthLayer" in function_layers(name)} == {"AuthFunction"}
    assert function_layers("AuthFunction") == ["SharedLayer", "DepsLayer", "CryptoLayer", "OAuthLayer"]


def test_the_auth_function_runs_oauth_sign_in_with_only_its_layers():
    assert _run("AuthFunction", "-c", OAUTH_PROBE) == {"pkce": True, "verified": "42", "none_refused": True}


def test_the_auth_function_serves_an_oauth_start_with_only_its_layers(stack, tmp_path):
    path = tmp_path / "start.json"
    path.write_text(json.dumps(http_event("GET", "/api/v1/auth/oauth/google/start")))
    assert _run("AuthFunction", "-m", "bench.cold_probe", _module("AuthFunction"), str(path))["status"] == 200
