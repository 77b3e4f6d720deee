"""One CORS policy: the app's rules (``shared.http.cors``) are exactly template.yaml's CorsConfiguration.

API Gateway answers browsers from the template in AWS; the app answers them when it is reached
directly. If the two drifted, a browser app would work locally and fail in AWS (or the reverse).
"""

from __future__ import annotations

from local.template import load_template
from shared.core.settings import Settings
from shared.http import cors


def _template_cors() -> dict:
    return load_template()["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"]


def test_the_app_and_the_template_allow_the_same_methods_headers_and_lifetime():
    template = _template_cors()
    assert [m.upper() for m in template["AllowMethods"]] == cors.OPTIONS["allow_methods"]
    assert [h.lower() for h in template["AllowHeaders"]] == cors.OPTIONS["allow_headers"]
    assert [h.lower() for h in template["ExposeHeaders"]] == cors.OPTIONS["expose_headers"]
    assert template["AllowCredentials"] is cors.OPTIONS["allow_credentials"]
    assert template["MaxAge"] == cors.OPTIONS["max_age"]


def test_both_take_their_origins_from_the_same_setting():
    template = load_template()
    assert _template_cors()["AllowOrigins"] == {"Ref": "AllowedOrigins"}
    default = template["Parameters"]["AllowedOrigins"]["Default"]
    assert Settings(_env_file=None).origins == default.split(",")
    env = template["Globals"]["Function"]["Environment"]["Variables"]["ALLOWED_ORIGINS"]
    assert env == {"Fn::Join": [",", {"Ref": "AllowedOrigins"}]}
