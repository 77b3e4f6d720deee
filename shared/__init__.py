"""Atribuo's Lambda layer: settings, clients, errors, the API factory and data access.

Every module here is small and does one thing. Nothing in this package imports from ``functions/``.
"""
