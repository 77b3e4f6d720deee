"""What every other package stands on: settings, typed errors, logging/metrics, the cold-start GC pause and
per-request context. Imports nothing else of ours.
"""
