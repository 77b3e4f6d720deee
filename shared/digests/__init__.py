"""The weekly digest: planning who is due, computing and e-mailing each page of users, and the signed
unsubscribe links.
"""
