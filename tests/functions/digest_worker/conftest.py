"""The avatar and digest fixtures (issue 6) for the tests in this folder."""

from tests.digest_support import avatar_bucket, digest_queue  # noqa: F401 - fixtures
