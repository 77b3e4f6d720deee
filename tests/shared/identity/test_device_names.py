"""Device names (issue 15) come from ua-parser's maintained rules, not from a hand-written table.

The names are what a person sees in GET /me/sessions and the security log; the parser loads on the
first sign-in only (tests/test_imports.py asserts no function imports it at import time).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from local.template import ROOT
from shared.identity import sessions

NAMES = {
    "Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0": "Firefox on Android",
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.5 Mobile/15E148 Safari/604.1"): "Safari on iPhone",
    ("Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0 "
     "Mobile/15E148 Safari/604.1"): "Chrome on iPad",
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 "
     "Safari/537.36 Edg/124.0"): "Edge on Windows",
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 "
     "Safari/605.1.15"): "Safari on macOS",
    ("Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 "
     "Safari/537.36"): "Chrome on ChromeOS",
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile "
     "Safari/537.36"): "Chrome on Android",
    "curl/8.5.0": "curl",
    "": "Unknown device",
    "x" * 100_000: "Unknown device",  # read up to UA_MAX_CHARS, whatever is sent
}


@pytest.mark.parametrize(("user_agent", "name"), NAMES.items(), ids=[n for n in NAMES.values()])
def test_a_user_agent_names_its_device(user_agent, name):
    assert sessions.device_name(user_agent) == name


def test_no_user_agent_and_a_client_label_need_no_parser():
    assert sessions.device_name(None) == "Unknown device"
    device = sessions.Device.of(user_agent="curl/8.5.0", client_ip="203.0.113.9", label="Kitchen tablet")
    assert device == sessions.Device(name="Kitchen tablet", ip_prefix="203.0.113.0/24")


def test_the_parser_loads_on_first_use_only():
    probe = ("import sys; from shared.identity import sessions; before = 'ua_parser' in sys.modules;"
             " sessions.device_name('curl/8.5.0'); print(before, 'ua_parser' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.split() == ["False", "True"]
