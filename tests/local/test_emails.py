"""``make emails``: each mail moto's SES sent, as text with its links, and its HTML on request."""

from __future__ import annotations

import json

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
    earlier = {"id": "before-the-restart", "source": "digest@atribuo.app", "subject": "Last week",
               "destinations": {"ToAddresses": ["ada@example.com"]}, "body": "<p>kept</p>"}
    (tmp_path / "sent-mail.json").write_text(json.dumps([earlier]))
    scheduler.list_emails(tmp_path)
    out = capsys.readouterr().out
    assert "── before-the-restart " in out and "kept" in out
    assert "to=ada@example.com" in out and "Chess went up to" in out
    assert "  link: http://127.0.0.1:3000/api/v1/digest/unsubscribe?token=abc" in out
    assert (tmp_path / f"{sent['MessageId']}.html").read_text() == HTML


def test_objects_and_mail_survive_a_restart_of_moto(stack, tmp_path, capsys, monkeypatch):
    """What make dev does on Ctrl-C (save) and at the next start (restore), against the real moto."""
    from local import aws_state

    endpoint = stack.moto.url
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="restart-test")
    s3.put_object(Bucket="restart-test", Key="avatars/u/1.png", Body=b"\x89PNG-one", ContentType="image/png")
    ses = boto3.client("ses")
    ses.verify_email_identity(EmailAddress="digest@atribuo.app")
    sent = ses.send_email(Source="digest@atribuo.app", Destination={"ToAddresses": ["grace@example.com"]},
                          Message={"Subject": {"Data": "Kept"}, "Body": {"Html": {"Data": HTML}}})
    saved = aws_state.save(tmp_path, endpoint)
    assert saved["objects"] >= 1 and saved["mails"] >= 1

    s3.delete_object(Bucket="restart-test", Key="avatars/u/1.png")  # what a restart of moto loses
    s3.delete_bucket(Bucket="restart-test")
    assert aws_state.restore(tmp_path, endpoint) >= 1
    back = s3.get_object(Bucket="restart-test", Key="avatars/u/1.png")
    assert back["Body"].read() == b"\x89PNG-one" and back["ContentType"] == "image/png"
    assert sent["MessageId"] in {m["id"] for m in aws_state.saved_mail(tmp_path)}
