-- Issue 17: the user's language for mails and error messages: 'en' or 'id' (Bahasa Indonesia);
-- NULL: not chosen, so each request's Accept-Language decides (English when it names neither).
ALTER TABLE users ADD COLUMN IF NOT EXISTS locale text;
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_locale_check;
ALTER TABLE users ADD CONSTRAINT users_locale_check CHECK (locale IN ('en', 'id'));
