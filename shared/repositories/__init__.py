"""Data access: one module per entity, each a set of named, parameterised SQL statements.

Routes call these functions; no route holds an SQL string.
"""
