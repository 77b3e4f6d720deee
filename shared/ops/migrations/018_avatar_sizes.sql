-- Avatar sizes (issue 17): a confirmed avatar also has 64/128/256 px WebP variants in the bucket.
--
-- avatar_urls is the {"64": url, "128": url, "256": url} map the API serves beside avatar_url; NULL when
-- there is no avatar, and for an avatar confirmed before sizes existed (no variants were made for it:
-- it gets them when it is uploaded again). avatar_card is the 128 px variant's bytes (a few KB of WebP),
-- which the card (card.svg / card.png) embeds as data: the profiles function draws it without a storage
-- client, and it goes with the avatar (same statement) and with the account (the row).
ALTER TABLE users
    ADD COLUMN avatar_urls jsonb,
    ADD COLUMN avatar_card bytea CONSTRAINT users_avatar_card_size CHECK (octet_length(avatar_card) <= 65536);
