-- 0009 imported history: its references enforced, and a cheaper post-id check. Idempotent.
--
-- Every imported post belongs to an account and every read to a post (imported_reads → imported_post_rows →
-- accounts). Declared foreign keys check that row by row (an SPI lookup and a row lock per inserted row):
-- on the 1M-row bench import they cost ≈ 4–5 s of server CPU for posts → accounts and ≈ 8 s for reads →
-- posts (measured under load, 2 cores), more than the whole import's target. So the same rules are checked
-- once per statement instead: AFTER … FOR EACH STATEMENT triggers with transition tables run one anti-join
-- over the statement's rows. Each writer locks the account rows it touches (FOR KEY SHARE to insert, FOR
-- UPDATE to delete), so a concurrent insert and delete for one account serialise and the later check sees
-- the earlier commit. Only TRUNCATE passes unchecked (statement triggers get no rows for it).
--
-- The post-id CHECK of 0002 ran a regular expression per row (≈ 20 % of the COPY's server CPU in perf);
-- the same rule (1–25 ASCII digits) without a regex.

ALTER TABLE imported_post_rows DROP CONSTRAINT IF EXISTS imported_post_rows_tweet_id_check;
ALTER TABLE imported_post_rows DROP CONSTRAINT IF EXISTS imported_post_rows_tweet_id_digits;
ALTER TABLE imported_post_rows ADD CONSTRAINT imported_post_rows_tweet_id_digits
    CHECK (length(tweet_id) BETWEEN 1 AND 25 AND ltrim(tweet_id, '0123456789') = '');

-- new or changed posts: their accounts exist
CREATE OR REPLACE FUNCTION imported_post_rows_check_account() RETURNS trigger
LANGUAGE plpgsql SET work_mem = '64MB' AS $$
BEGIN
    PERFORM 1 FROM accounts WHERE account_id IN (SELECT DISTINCT account_id FROM new_rows) FOR KEY SHARE;
    IF EXISTS (SELECT 1 FROM (SELECT DISTINCT account_id FROM new_rows) n
                WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.account_id = n.account_id)) THEN
        RAISE EXCEPTION 'imported_post_rows: a post of an account that does not exist'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;

-- new or changed reads: their posts exist
CREATE OR REPLACE FUNCTION imported_reads_check_post() RETURNS trigger
LANGUAGE plpgsql SET work_mem = '64MB' AS $$
BEGIN
    PERFORM 1 FROM accounts WHERE account_id IN (SELECT DISTINCT account_id FROM new_rows) FOR KEY SHARE;
    IF EXISTS (SELECT 1 FROM new_rows n
                WHERE NOT EXISTS (SELECT 1 FROM imported_post_rows p
                                   WHERE p.account_id = n.account_id AND p.tweet_id = n.tweet_id)) THEN
        RAISE EXCEPTION 'imported_reads: a read of a post that was not imported'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;

-- deleted or re-keyed posts: no read is left without its post
CREATE OR REPLACE FUNCTION imported_post_rows_check_reads() RETURNS trigger
LANGUAGE plpgsql SET work_mem = '64MB' AS $$
BEGIN
    PERFORM 1 FROM accounts WHERE account_id IN (SELECT DISTINCT account_id FROM old_rows) FOR UPDATE;
    IF EXISTS (SELECT 1 FROM old_rows o
                 JOIN imported_reads r ON r.account_id = o.account_id AND r.tweet_id = o.tweet_id
                WHERE NOT EXISTS (SELECT 1 FROM imported_post_rows p
                                   WHERE p.account_id = o.account_id AND p.tweet_id = o.tweet_id)) THEN
        RAISE EXCEPTION 'imported_post_rows: the post still has reads in imported_reads'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;

-- deleted or re-keyed accounts: no imported post is left without its account
CREATE OR REPLACE FUNCTION accounts_check_imported_posts() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM old_rows o
                WHERE EXISTS (SELECT 1 FROM imported_post_rows p WHERE p.account_id = o.account_id)
                  AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.account_id = o.account_id)) THEN
        RAISE EXCEPTION 'accounts: the account still has imported posts in imported_post_rows'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS imported_post_rows_account_ins ON imported_post_rows;
CREATE TRIGGER imported_post_rows_account_ins AFTER INSERT ON imported_post_rows
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION imported_post_rows_check_account();
DROP TRIGGER IF EXISTS imported_post_rows_account_upd ON imported_post_rows;
CREATE TRIGGER imported_post_rows_account_upd AFTER UPDATE ON imported_post_rows
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION imported_post_rows_check_account();
DROP TRIGGER IF EXISTS imported_post_rows_reads_del ON imported_post_rows;
CREATE TRIGGER imported_post_rows_reads_del AFTER DELETE ON imported_post_rows
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION imported_post_rows_check_reads();
DROP TRIGGER IF EXISTS imported_post_rows_reads_upd ON imported_post_rows;
CREATE TRIGGER imported_post_rows_reads_upd AFTER UPDATE ON imported_post_rows
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION imported_post_rows_check_reads();
DROP TRIGGER IF EXISTS imported_reads_post_ins ON imported_reads;
CREATE TRIGGER imported_reads_post_ins AFTER INSERT ON imported_reads
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION imported_reads_check_post();
DROP TRIGGER IF EXISTS imported_reads_post_upd ON imported_reads;
CREATE TRIGGER imported_reads_post_upd AFTER UPDATE ON imported_reads
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION imported_reads_check_post();
DROP TRIGGER IF EXISTS accounts_imported_posts_del ON accounts;
CREATE TRIGGER accounts_imported_posts_del AFTER DELETE ON accounts
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION accounts_check_imported_posts();
DROP TRIGGER IF EXISTS accounts_imported_posts_upd ON accounts;
CREATE TRIGGER accounts_imported_posts_upd AFTER UPDATE ON accounts
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION accounts_check_imported_posts();
