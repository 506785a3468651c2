-- Rollback of 0002: drops the imported history (data included).
DROP VIEW IF EXISTS imported_posts;
DROP TABLE IF EXISTS imported_stage;
DROP TABLE IF EXISTS imported_reads;
DROP TABLE IF EXISTS imported_post_rows;
