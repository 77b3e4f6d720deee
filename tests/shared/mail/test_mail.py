"""The mail templates and MIME building (issue 15): what every mail is made of."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser

from shared.mail import messages
from shared.mail.send import mime
from shared.mail.templates import Button, Document, Items, Paragraph, render


def test_every_user_value_is_escaped_in_the_html_and_plain_in_the_text():
    evil = '<script>alert("x")</script> & "quotes"'
    mail = render(Document(subject=evil, heading=f"Hi {evil}", blocks=[
        Paragraph(evil), Items("Levelled up", [(evil, f" 1 → 2: {evil}")]),
        Button("Open", 'https://atribuo.app/x?a=1&b="2"')]))
    assert "<script>" not in mail.html and "&lt;script&gt;" in mail.html
    assert 'href="https://atribuo.app/x?a=1&amp;b=&quot;2&quot;"' in mail.html
    assert evil in mail.text and 'Open: https://atribuo.app/x?a=1&b="2"' in mail.text


def test_the_html_is_email_client_safe():
    html = messages.verify_email("Quester", "https://atribuo.app/verify-email?token=abc", hours=48).html
    assert "<style" not in html and "<script" not in html and "<svg" not in html
    assert 'role="presentation"' in html and 'width="600"' in html
    assert 'bgcolor="#0f172a"' in html and "color:#e2e8f0" in html  # background and text colour set together
    assert '<meta name="color-scheme" content="light dark">' in html


def test_mime_is_multipart_alternative_with_both_parts_and_extra_headers():
    mail = messages.reset_password("Zoë", "https://atribuo.app/reset-password?token=abc", minutes=60)
    raw = mime(mail, to="zoe@example.com", sender="accounts@atribuo.app",
               headers={"List-Unsubscribe": "<https://x/u>"})
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert message.get_content_type() == "multipart/alternative"
    assert message["From"] == "Atribuo <accounts@atribuo.app>" and message["To"] == "zoe@example.com"
    assert message["List-Unsubscribe"] == "<https://x/u>"
    assert "Zoë" in message.get_body(("plain",)).get_content()
    assert "Zoë" in message.get_body(("html",)).get_content()
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
