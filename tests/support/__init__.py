"""Helpers the tests share (never imported from conftest): sample events and handler calls
(``events``), real-database helpers per area (``skills``, ``realtime``, ``digests``, ``maintenance``),
statement/round-trip counters (``counting``) and test users (``users``).

The event helpers are re-exported here because nearly every test uses them.
"""

from tests.support.events import EVENTS, ROOT, Response, http_event, invoke, invoke_plain, load_event

__all__ = ["EVENTS", "ROOT", "Response", "http_event", "invoke", "invoke_plain", "load_event"]
