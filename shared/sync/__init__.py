"""Keeping a user's devices in step: what happens after every committed write, the WebSocket fan-out,
offline batches and the delta/snapshot reads of ``GET /sync``.
"""
