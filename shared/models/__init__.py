"""The wire: pydantic request and response models, one module per resource (``XCreate`` / ``XUpdate`` /
``XPublic``), and the closed vocabularies they validate (categories, time zones).
"""
