"""The container's connections to the outside (Postgres, Upstash Redis, S3/R2, SQS/SES, the WebSocket
management API): created lazily, cached per container, reset through one registry, and failures mapped
to 503s.
"""
