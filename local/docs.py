"""The local gateway's documentation pages, all served offline.

``/docs``: Swagger UI from the ``swagger-ui-bundle-v2`` pip package (no CDN) over ``/openapi.json``.
``/docs/realtime``: the WebSocket protocol, rendered from ``asyncapi.yaml`` (the AsyncAPI 3 document
the tests validate real frames against) as one plain HTML page.
"""

from __future__ import annotations

import html
import json
import mimetypes
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ASYNCAPI = ROOT / "asyncapi.yaml"
SWAGGER_STATIC = "/docs/static/"
Answer = tuple[int, list[tuple[str, str]], bytes]
HTML = [("content-type", "text/html; charset=utf-8")]


def swagger_page() -> Answer:
    from fastapi.openapi.docs import get_swagger_ui_html

    page = get_swagger_ui_html(openapi_url="/openapi.json", title="Atribuo API",
                               swagger_js_url=f"{SWAGGER_STATIC}swagger-ui-bundle.js",
                               swagger_css_url=f"{SWAGGER_STATIC}swagger-ui.css",
                               swagger_favicon_url=f"{SWAGGER_STATIC}favicon-32x32.png").body
    return 200, HTML, bytes(page)


def swagger_asset(name: str) -> Answer | None:
    """A file of the pip-installed Swagger UI (only the files the bundle has: no path can escape it)."""
    import swagger_ui_bundle

    folder = Path(swagger_ui_bundle.swagger_ui_path)
    if name not in {p.name for p in folder.iterdir() if p.is_file()}:
        return None
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return 200, [("content-type", kind), ("cache-control", "public, max-age=86400")], (folder / name).read_bytes()


def _schema(value: Any) -> str:
    return html.escape(json.dumps(value, indent=2))


def realtime_page() -> Answer:
    import yaml

    doc = yaml.safe_load(ASYNCAPI.read_text())
    info, messages = doc["info"], doc["components"]["messages"]
    rows = []
    for op_id, op in doc["operations"].items():
        names = [m["$ref"].rsplit("/", 1)[-1] for m in op["messages"]]
        reply = [m["$ref"].rsplit("/", 1)[-1] for m in (op.get("reply") or {}).get("messages", [])]
        direction = "server → client" if op["action"] == "receive" else "client → server"
        rows.append(f"<tr><td>{html.escape(op_id)}</td><td>{direction}</td><td>{', '.join(names)}</td>"
                    f"<td>{', '.join(reply)}</td><td>{html.escape(op.get('summary', ''))}</td></tr>")
    sections = [f"<h3 id='{html.escape(name)}'>{html.escape(name)}</h3><p>{html.escape(m.get('summary', ''))}</p>"
                f"<pre>{_schema(m['payload'])}</pre>" for name, m in messages.items()]
    body = (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(info['title'])}</title>"
            "<style>body{font:15px system-ui;max-width:60em;margin:2em auto}pre{background:#f4f4f4;padding:1em}"
            "td,th{border-bottom:1px solid #ddd;padding:.3em .6em;text-align:left}</style></head><body>"
            f"<h1>{html.escape(info['title'])} {html.escape(info['version'])}</h1>"
            f"<pre>{html.escape(info['description'])}</pre><h2>Operations</h2><table><tr><th>operation</th>"
            f"<th>direction</th><th>message</th><th>reply</th><th></th></tr>{''.join(rows)}</table>"
            f"<h2>Messages</h2>{''.join(sections)}<h2>Shared schemas</h2>"
            f"<pre>{_schema(doc['components']['schemas'])}</pre>"
            "<p>Source: <code>asyncapi.yaml</code> (AsyncAPI 3.0.0).</p></body></html>")
    return 200, HTML, body.encode()
