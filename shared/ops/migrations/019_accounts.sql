-- Accounts (issue 15, h-acct): accounts that predate e-mail verification (012) are asked, once, to verify.
--
-- Digests go only to verified addresses, so every account created before 012 stopped getting them.
-- Rather than mail digests to unproven addresses ("grandfathered"), each such account that still wants
-- digests is sent one verification link by the daily maintenance (throttled per run); the link is the
-- same one registration sends. ``verification_sent_at`` is when the address was first sent a
-- verification link (registration, resend, change of address, or that one invitation): NULL = never.

ALTER TABLE users ADD COLUMN verification_sent_at timestamptz;

-- Accounts made since 012 were mailed at registration: a verification token of theirs says so.
UPDATE users u SET verification_sent_at = t.first_sent
FROM (SELECT user_id, min(created_at) AS first_sent FROM account_tokens
      WHERE purpose IN ('verify_email', 'change_email') GROUP BY user_id) t
WHERE t.user_id = u.id;
-- Verified addresses need no invitation.
UPDATE users SET verification_sent_at = email_verified_at
WHERE email_verified_at IS NOT NULL AND verification_sent_at IS NULL;

-- The invitation's queue: unverified accounts never sent a link, walked in id order.
CREATE INDEX users_verification_unsent_idx ON users (id)
    WHERE email_verified_at IS NULL AND verification_sent_at IS NULL;
