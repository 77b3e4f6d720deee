"""Password hashing: argon2id at (at least) OWASP's recommended parameters.

Parameters: memory 19 MiB, 2 iterations, parallelism 1 — OWASP's minimum for argon2id, chosen so a
login stays well under 100 ms on a 512 MB Lambda. ``needs_rehash`` lets login upgrade old hashes.
"""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MEMORY_KIB = 19 * 1024
TIME_COST = 2
PARALLELISM = 1


@lru_cache(maxsize=1)
def hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_KIB, parallelism=PARALLELISM, type=Type.ID)


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return hasher().verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return hasher().check_needs_rehash(stored_hash)


# --- the password policy (issue 15) ------------------------------------------------------------------
# zxcvbn's score: 0 "too guessable" … 4 "very unguessable". 3 is "safely unguessable" against an
# offline attack with a slow hash (about 10^10 guesses); with argon2 at our parameters that is years.
MIN_SCORE = 3
MIN_PART = 3  # a username or e-mail local part this short is not searched for inside the password


def weak_password_reason(password: str, *, username: str | None, email: str | None) -> str | None:
    """Why ``password`` may not be used, in words for a person; None when it is good enough.

    A password containing the username, the e-mail address or its local part is refused outright
    (they are public or easily learnt); otherwise zxcvbn (the pinned, well-kept estimator) must rate
    it at least ``MIN_SCORE``, with the account's own names as known inputs. zxcvbn is imported here,
    on first use, because building its dictionaries costs tens of milliseconds.
    """
    from zxcvbn import zxcvbn

    from shared.core.i18n import N_, Sentence, joined

    lowered = password.casefold()
    local = (email or "").split("@", 1)[0]
    contains = {
        "email": N_("it contains your e-mail address; choose a password that has nothing to do with your account"),
        "username": N_("it contains your username; choose a password that has nothing to do with your account"),
    }
    for label, value in (("email", email), ("username", username), ("email", local)):
        if value and len(value) >= MIN_PART and value.casefold() in lowered:
            return contains[label]
    inputs = [v for v in (username, email, local) if v]
    result = zxcvbn(password[:100], user_inputs=inputs)  # zxcvbn's cost grows fast with length; 100 is plenty
    if result["score"] >= MIN_SCORE:
        return None
    # zxcvbn's feedback sentences are its own gettext msgids (zxcvbn/feedback.py): ``make messages``
    # extracts that file too, so each has its Indonesian in our catalogue.
    feedback = result.get("feedback") or {}
    said = (feedback.get("warning") or "", *(feedback.get("suggestions") or []))
    hints = [h.strip() for h in said if h and h.strip()]
    if hints:
        return joined(N_("it is too easy to guess."), *(Sentence(h) for h in hints))
    return N_("it is too easy to guess: add more words or characters that belong together only for you")


def require_strong(password: str, *, username: str | None, email: str | None, field: str = "body.password") -> None:
    """WeakPasswordError (422 naming ``field``, saying why in words) unless the policy accepts ``password``."""
    from shared.core.errors import WeakPasswordError

    reason = weak_password_reason(password, username=username, email=email)
    if reason is not None:
        raise WeakPasswordError(reason, field=field)
