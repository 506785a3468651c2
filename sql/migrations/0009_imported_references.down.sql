-- Rollback of 0009: the reference triggers go, the post-id check is the regular expression of 0002 again.
DROP TRIGGER IF EXISTS accounts_imported_posts_upd ON accounts;
DROP TRIGGER IF EXISTS accounts_imported_posts_del ON accounts;
DROP TRIGGER IF EXISTS imported_reads_post_upd ON imported_reads;
DROP TRIGGER IF EXISTS imported_reads_post_ins ON imported_reads;
DROP TRIGGER IF EXISTS imported_post_rows_reads_upd ON imported_post_rows;
DROP TRIGGER IF EXISTS imported_post_rows_reads_del ON imported_post_rows;
DROP TRIGGER IF EXISTS imported_post_rows_account_upd ON imported_post_rows;
DROP TRIGGER IF EXISTS imported_post_rows_account_ins ON imported_post_rows;
DROP FUNCTION IF EXISTS accounts_check_imported_posts();
DROP FUNCTION IF EXISTS imported_post_rows_check_reads();
DROP FUNCTION IF EXISTS imported_reads_check_post();
DROP FUNCTION IF EXISTS imported_post_rows_check_account();
ALTER TABLE imported_post_rows DROP CONSTRAINT IF EXISTS imported_post_rows_tweet_id_digits;
ALTER TABLE imported_post_rows DROP CONSTRAINT IF EXISTS imported_post_rows_tweet_id_check;
ALTER TABLE imported_post_rows ADD CONSTRAINT imported_post_rows_tweet_id_check CHECK (tweet_id ~ '^[0-9]{1,25}$');
