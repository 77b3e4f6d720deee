"""The local stack: embedded services and API Gateway emulation for ``make dev`` and the tests."""
