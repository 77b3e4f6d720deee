"""Every environment variable name the code reads, in one place.

The names match the ``Environment`` block of ``template.yaml`` and the variables ``make dev`` sets.
"""

STAGE = "STAGE"
SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
APP_VERSION = "APP_VERSION"
DATABASE_URL = "DATABASE_URL"
DATABASE_URL_SECRET = "DATABASE_URL_SECRET"
UPSTASH_URL = "UPSTASH_REDIS_REST_URL"
UPSTASH_TOKEN = "UPSTASH_REDIS_REST_TOKEN"
UPSTASH_SECRET = "UPSTASH_SECRET"
ALLOWED_ORIGINS = "ALLOWED_ORIGINS"
