"""The avatar and digest fixtures (issue 6) for the tests in this folder."""

from tests.support.digests import avatar_bucket, digest_queue  # noqa: F401 - fixtures
