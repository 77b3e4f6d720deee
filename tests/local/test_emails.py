"""``make emails``: each mail moto's SES sent, as text with its links, and its HTML on request."""

from __future__ import annotations

import boto3

from local import aws_resources as res
from local import scheduler

HTML = ("<html><head><style>p{color:red}</style></head><body><h1>Your week</h1><p>Chess went up to "
        "<b>7</b>.</p><p><a href='https://atribuo.app/u/ada'>Profile</a> · "
        "<a href=\"http://127.0.0.1:3000/api/v1/digest/unsubscribe?token=abc\">Unsubscribe</a></p></body></html>")


def test_an_html_mail_reads_as_text_with_its_links():
    text, links = res.readable(HTML)
    assert text == "Your week\nChess went up to 7.\nProfile · Unsubscribe"
    assert "color" not in text
    assert links == ["https://atribuo.app/u/ada", "http://127.0.0.1:3000/api/v1/digest/unsubscribe?token=abc"]


def test_make_emails_prints_text_and_links_and_writes_the_html(stack, monkeypatch, tmp_path, capsys):
    ses = boto3.client("ses")
    ses.verify_email_identity(EmailAddress="digest@atribuo.app")
    sent = ses.send_email(Source="digest@atribuo.app", Destination={"ToAddresses": ["ada@example.com"]},
                          Message={"Subject": {"Data": "Your week"},
                                   "Body": {"Text": {"Data": "plain"}, "Html": {"Data": HTML}}})
    monkeypatch.setattr(scheduler, "_load_dev_env", lambda: None)
    monkeypatch.setenv("EMAILS_HTML", str(tmp_path))
    scheduler.list_emails()
    out = capsys.readouterr().out
    assert "to=ada@example.com" in out and "Chess went up to" in out
    assert "  link: http://127.0.0.1:3000/api/v1/digest/unsubscribe?token=abc" in out
    assert (tmp_path / f"{sent['MessageId']}.html").read_text() == HTML
