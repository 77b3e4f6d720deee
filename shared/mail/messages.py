"""The account mails, each rendered from one ``Document`` as HTML and plain text, in the user's
language (issue 17: ``locale`` is ``users.locale``, or what their browser asked for, else English)."""

from __future__ import annotations

from shared.core.i18n import DEFAULT, N_, _
from shared.mail.templates import Button, Document, Email, Paragraph, render

IGNORE = N_("If this was not you, you can ignore this mail: nothing changes until the link is used.")


def verify_email(name: str, url: str, *, hours: int, locale: str = DEFAULT) -> Email:
    return render(Document(
        subject=_("Confirm your e-mail address for Atribuo", locale),
        preheader=_("One click and your weekly digest can reach you.", locale),
        heading=_("Hi {name}, is this your address?", locale).format(name=name),
        blocks=[Paragraph(_("Confirm it and Atribuo can send you your weekly progress digest and help you "
                            "back in if you ever forget your password.", locale)),
                Button(_("Confirm my address", locale), url),
                Paragraph(_("The link works once, for {hours} hours.", locale).format(hours=hours), muted=True)],
        footer=[_(IGNORE, locale)],
        lang=locale,
    ))


def confirm_new_email(name: str, url: str, *, hours: int, locale: str = DEFAULT) -> Email:
    return render(Document(
        subject=_("Confirm your new e-mail address for Atribuo", locale),
        preheader=_("Your account switches to this address once you confirm.", locale),
        heading=_("Hi {name}, is this your new address?", locale).format(name=name),
        blocks=[Paragraph(_("You asked to move your Atribuo account to this address. It switches when you "
                            "confirm; until then your old address stays in use.", locale)),
                Button(_("Confirm my new address", locale), url),
                Paragraph(_("The link works once, for {hours} hours.", locale).format(hours=hours), muted=True)],
        footer=[_(IGNORE, locale)],
        lang=locale,
    ))


def email_changed(name: str, new_email: str, *, locale: str = DEFAULT) -> Email:
    """To the old address: the account moved (the new address shown partly hidden)."""
    local, _at, domain = new_email.partition("@")
    hidden = f"{local[:1]}***@{domain}"
    return render(Document(
        subject=_("Your Atribuo e-mail address was changed", locale),
        preheader=_("Mail now goes to {hidden}.", locale).format(hidden=hidden),
        heading=_("Hi {name}, your address changed", locale).format(name=name),
        blocks=[Paragraph(_("Your Atribuo account now uses {hidden}. This address gets nothing more from us.",
                            locale).format(hidden=hidden)),
                Paragraph(_("If you did not do this, reset your password at once and check your devices "
                            "(Settings → Sessions).", locale), muted=True)],
        lang=locale,
    ))


def reset_password(name: str, url: str, *, minutes: int, locale: str = DEFAULT) -> Email:
    return render(Document(
        subject=_("Reset your Atribuo password", locale),
        preheader=_("Choose a new password; the link works once.", locale),
        heading=_("Hi {name}, forgot your password?", locale).format(name=name),
        blocks=[Paragraph(_("Someone (we hope you) asked to reset the password of your Atribuo account. "
                            "Choosing a new one signs out every device.", locale)),
                Button(_("Choose a new password", locale), url),
                Paragraph(_("The link works once, for {minutes} minutes.", locale).format(minutes=minutes),
                          muted=True)],
        footer=[_("If you did not ask for this, ignore this mail: your password stays as it is.", locale)],
        lang=locale,
    ))


def account_deleted(name: str, *, locale: str = DEFAULT) -> Email:
    return render(Document(
        subject=_("Your Atribuo account was deleted", locale),
        preheader=_("Your character sheet and everything in it are gone.", locale),
        heading=_("Goodbye, {name}", locale).format(name=name),
        blocks=[Paragraph(_("Your Atribuo account and everything in it (skills, history, avatar, sessions) "
                            "were deleted just now, as you asked. Nothing more will be sent to this address.",
                            locale)),
                Paragraph(_("If you did not do this, reply to this mail at once.", locale), muted=True)],
        lang=locale,
    ))
