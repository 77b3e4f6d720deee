"""The HTTP edge, and the only package that imports FastAPI/Starlette: the app factory, edge middleware,
CORS, the error envelope, responses and the auth dependencies.
"""
