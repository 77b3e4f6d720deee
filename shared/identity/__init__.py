"""Who is calling and what they may do: accounts, passwords, sign-in sessions, access tokens and their
keys, WebSocket tickets, and the rate limits in front of credentials.
"""
