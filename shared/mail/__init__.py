"""Mail done properly (issue 15): templates rendering HTML + plain text, and sending through SES v2.

Layer: a sibling of ``shared.sync`` (identity and digests import it; it imports repositories, models,
clients and core). ``templates`` builds the documents, ``messages`` the account mails, ``send``
delivers one rendered mail as a MIME message through the container's lazily created ``sesv2`` client.
"""
