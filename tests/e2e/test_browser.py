"""A real browser on another origin uses the generated SDK against the local stack.

Debian's Chromium (``/usr/bin/chromium``; ``.ci/run`` installs it when absent, nothing downloads a
browser) driven headless by Playwright. The page (``tests/e2e/browser_page``) is served from
``http://localhost:<port>`` while the API is ``http://127.0.0.1:<port>``: every call is cross-origin,
so CORS preflights, exposed headers and the bucket's upload CORS rules are all exercised. One context
registers, logs in, creates a skill, levels it up and uploads an avatar through the presigned POST;
a second context, signed in as the same user, gets the pushes over the WebSocket and shows the new
level; the avatar (through the CDN stand-in) and the radar card load in ``<img>`` tags. Screenshots
go to ``test-output/browser/`` (``ATRIBUO_TEST_OUTPUT`` moves it).

Runs with ``make test-browser`` (``.ci/run`` runs it after ``make test``), not in ``make test``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.http_gateway import CDN_PREFIX, HttpGateway
from local.invoker import Invoker
from local.servers import ServerThread
from tests.support.events import ROOT
from tests.support.typescript import SDK, built

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.usefixtures("ws_gateway")]

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
PAGE = Path(__file__).parent / "browser_page"
PASSWORD = "correct horse battery"


def output_dir() -> Path:
    folder = Path(os.environ.get("ATRIBUO_TEST_OUTPUT", ROOT / "test-output")) / "browser"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def frontend() -> Iterator[str]:
    """The page, the compiled SDK and zod, served like a Vite dev server on its own origin."""
    from starlette.applications import Starlette
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles

    dist = built()
    app = Starlette(routes=[Mount("/sdk", StaticFiles(directory=dist)),
                            Mount("/node_modules/zod", StaticFiles(directory=SDK / "node_modules" / "zod")),
                            Mount("/", StaticFiles(directory=PAGE, html=True))])
    server = ServerThread(app).start()
    yield f"http://localhost:{server.port}"
    server.stop()


@pytest.fixture(scope="module")
def api(stack, frontend: str) -> Iterator[str]:
    """The HTTP gateway, allowing the page's origin, with avatar URLs on its CDN stand-in."""
    from local.aws_resources import ensure_avatar_bucket
    from shared.clients.registry import reset_all

    saved = {k: os.environ.get(k) for k in ("ALLOWED_ORIGINS", "AVATAR_PUBLIC_BASE_URL")}
    os.environ["ALLOWED_ORIGINS"] = frontend
    invoker = Invoker()
    server = ServerThread(HttpGateway(invoker)).start()  # reads the allowed origins now
    os.environ["AVATAR_PUBLIC_BASE_URL"] = f"{server.url}{CDN_PREFIX}"
    reset_all()
    ensure_avatar_bucket()
    yield server.url
    server.stop()
    invoker.shutdown()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    reset_all()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "Debian's Chromium is missing: `apt-get install -y chromium` (.ci/run does it)"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        yield chromium
        chromium.close()


def _open(browser: Any, url: str, errors: list[str]) -> Any:
    page = browser.new_context(viewport={"width": 900, "height": 600}).new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(url)
    page.wait_for_function("document.body.dataset.ready === 'true'")
    return page


def test_a_browser_app_on_another_origin_registers_syncs_and_uploads(browser, frontend, api):
    errors: list[str] = []
    url = f"{frontend}/index.html?api={api}"
    phone, laptop = _open(browser, url, errors), _open(browser, url, errors)
    assert phone.evaluate("location.origin") == frontend != api

    phone.evaluate("([u, p]) => app.register(u, p)", ["ada", PASSWORD])
    phone.evaluate("([u, p]) => app.login(u, p)", ["ada", PASSWORD])
    laptop.evaluate("([u, p]) => app.login(u, p)", ["ada", PASSWORD])
    assert laptop.evaluate("() => app.listen()")  # the hello frame's connection id

    skill = phone.evaluate("() => app.createSkill('Chess', 'mind', 3)")
    laptop.wait_for_function("document.body.dataset.level === '3'")
    phone.evaluate("([id]) => app.setLevel(id, 7, 'club night')", [skill["id"]])
    laptop.wait_for_function("document.body.dataset.level === '7'")
    assert laptop.text_content("#skill") == "Chess 7"

    avatar = phone.evaluate("() => app.uploadAvatar()")
    # what the browser shows is the 256 px WebP re-encoded from the 96 px upload, never the upload itself
    assert avatar["src"].startswith(f"{api}{CDN_PREFIX}/") and avatar["src"].endswith("-256.webp")
    assert avatar["width"] == 256
    card = phone.evaluate("([u]) => app.showCard(u)", ["ada"])
    assert card["width"] > 0

    folder = output_dir()
    phone.screenshot(path=str(folder / "phone.png"))
    laptop.screenshot(path=str(folder / "laptop.png"))
    assert (folder / "phone.png").stat().st_size > 0
    assert errors == []


def test_swagger_ui_renders_the_contract_offline(browser, api):
    page = browser.new_page()
    external: list[str] = []
    page.on("request", lambda request: None if request.url.startswith(api) else external.append(request.url))
    page.goto(f"{api}/docs")
    page.wait_for_selector(".opblock-summary-path")  # the operations are listed: the spec rendered
    assert page.locator(".opblock").count() >= 29
    page.screenshot(path=str(output_dir() / "swagger-ui.png"))
    assert external == []  # everything came from the local gateway
