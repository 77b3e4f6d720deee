"""Email documents: one layout, rendered as HTML every client shows and as plain text.

The HTML is what email clients render reliably: nested ``<table role="presentation">`` for layout,
every style inline (Gmail and Outlook drop ``<style>``), widths in attributes, no scripts, no web
fonts, no SVG. The palette is the radar card's (slate on near-black, sky and gold accents), with
both the background and the text colour set on every block, so a client that inverts colours for
dark mode still inverts a readable pair; ``color-scheme`` tells the others it is already dark.
Every value that came from a user is escaped; URLs are ours and escaped as attributes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

from shared.core.i18n import _

BACKGROUND = "#020617"
CARD = "#0f172a"
BORDER = "#1e293b"
TEXT = "#e2e8f0"
MUTED = "#94a3b8"
ACCENT = "#38bdf8"
GOLD = "#facc15"
FONT = "-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif"


@dataclass(frozen=True)
class Email:
    """A rendered mail: subject, plain text and HTML (the same content twice)."""

    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Paragraph:
    text: str
    muted: bool = False


@dataclass(frozen=True)
class Button:
    label: str
    url: str


@dataclass(frozen=True)
class Items:
    """A titled list; each item is (strong part, rest)."""

    title: str
    items: Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Image:
    url: str
    alt: str
    width: int
    height: int


Block = Paragraph | Button | Items | Image


@dataclass(frozen=True)
class Document:
    """What a mail says: ``preheader`` is the inbox preview line, ``footer`` the small print."""

    subject: str
    heading: str
    blocks: Sequence[Block]
    preheader: str = ""
    footer: Sequence[str] = field(default_factory=tuple)
    footer_link: tuple[str, str] | None = None  # (label, url): the digest's unsubscribe link
    lang: str = "en"  # the language it is written in: <html lang>, and the button's fallback line


def render(doc: Document) -> Email:
    return Email(subject=doc.subject, text=_text(doc), html=_html(doc))


def _text(doc: Document) -> str:
    lines = [doc.heading, ""]
    for block in doc.blocks:
        if isinstance(block, Paragraph):
            lines += [block.text, ""]
        elif isinstance(block, Button):
            lines += [f"{block.label}: {block.url}", ""]
        elif isinstance(block, Items):
            lines += [block.title, *(f"- {strong}{rest}" for strong, rest in block.items), ""]
        elif isinstance(block, Image):
            lines += [f"{block.alt}: {block.url}", ""]
    if doc.footer or doc.footer_link:
        lines += ["--", *doc.footer]
    if doc.footer_link:
        lines.append(f"{doc.footer_link[0]}: {doc.footer_link[1]}")
    return "\n".join(lines).rstrip() + "\n"


def _cell(content: str, padding: str = "0 32px 16px 32px") -> str:
    return (f'<tr><td style="padding:{padding};font-family:{FONT};font-size:16px;line-height:24px;'
            f'color:{TEXT};background-color:{CARD}" bgcolor="{CARD}">{content}</td></tr>')


def _block_html(block: Block, lang: str = "en") -> str:
    if isinstance(block, Paragraph):
        colour = MUTED if block.muted else TEXT
        return _cell(f'<p style="margin:0;color:{colour}">{escape(block.text)}</p>')
    if isinstance(block, Button):
        url = escape(block.url, quote=True)
        button = (f'<table role="presentation" cellpadding="0" cellspacing="0" border="0"><tr>'
                  f'<td bgcolor="{ACCENT}" style="border-radius:6px;background-color:{ACCENT}">'
                  f'<a href="{url}" style="display:inline-block;padding:12px 24px;font-family:{FONT};'
                  f'font-size:16px;font-weight:700;color:{CARD};text-decoration:none;border-radius:6px">'
                  f"{escape(block.label)}</a></td></tr></table>"
                  f'<p style="margin:12px 0 0 0;font-size:13px;line-height:18px;color:{MUTED};'
                  f'word-break:break-all">{escape(_("Or paste this link into your browser:", lang))} '
                  f'<a href="{url}" style="color:{ACCENT}">{escape(block.url)}</a></p>')
        return _cell(button)
    if isinstance(block, Items):
        rows = "".join(
            f'<tr><td style="padding:4px 0;font-family:{FONT};font-size:15px;line-height:22px;color:{TEXT}">'
            f'<span style="color:{GOLD}">&#9650;</span> <strong>{escape(strong)}</strong>{escape(rest)}</td></tr>'
            for strong, rest in block.items)
        return _cell(f'<p style="margin:0 0 8px 0;font-size:13px;letter-spacing:1px;text-transform:uppercase;'
                     f'color:{MUTED}">{escape(block.title)}</p>'
                     f'<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">'
                     f"{rows}</table>")
    return _cell(f'<img src="{escape(block.url, quote=True)}" alt="{escape(block.alt, quote=True)}" '
                 f'width="{block.width}" height="{block.height}" style="display:block;border:0;max-width:100%;'
                 f'height:auto;border-radius:12px">')


def _html(doc: Document) -> str:
    preheader = (f'<div style="display:none;max-height:0;overflow:hidden;mso-hide:all">{escape(doc.preheader)}</div>'
                 if doc.preheader else "")
    footer = "".join(f'<p style="margin:0 0 8px 0">{escape(line)}</p>' for line in doc.footer)
    if doc.footer_link:
        label, url = doc.footer_link
        footer += (f'<p style="margin:0"><a href="{escape(url, quote=True)}" style="color:{MUTED};'
                   f'text-decoration:underline">{escape(label)}</a></p>')
    body = "".join(_block_html(block, doc.lang) for block in doc.blocks)
    brand = _cell(f'<span style="font-size:14px;font-weight:700;letter-spacing:2px;color:{GOLD}">ATRIBUO</span>',
                  "24px 32px 8px 32px")
    heading = _cell(f'<h1 style="margin:0;font-size:24px;line-height:32px;color:{TEXT}">{escape(doc.heading)}</h1>',
                    "0 32px 24px 32px")
    return (
        f'<!doctype html><html lang="{escape(doc.lang, quote=True)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="color-scheme" content="light dark"><meta name="supported-color-schemes" content="light dark">'
        f"<title>{escape(doc.subject)}</title></head>"
        f'<body style="margin:0;padding:0;background-color:{BACKGROUND}" bgcolor="{BACKGROUND}">{preheader}'
        f'<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" bgcolor="{BACKGROUND}" '
        f'style="background-color:{BACKGROUND}"><tr><td align="center" style="padding:24px 12px">'
        f'<table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0" bgcolor="{CARD}" '
        f'style="width:100%;max-width:600px;background-color:{CARD};border:1px solid {BORDER};border-radius:12px">'
        f"{brand}{heading}{body}"
        f'<tr><td style="padding:16px 32px 24px 32px;font-family:{FONT};font-size:12px;line-height:18px;'
        f'color:{MUTED};background-color:{CARD};border-top:1px solid {BORDER}" bgcolor="{CARD}">{footer}</td></tr>'
        "</table></td></tr></table></body></html>"
    )
