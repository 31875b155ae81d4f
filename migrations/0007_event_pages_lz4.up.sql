-- Event pages compressed with lz4 where the server has it: a 300-workflow unit's page (≈ 300 KB of JSON) is then
-- ≈ a fifth of the size and cheaper to write than uncompressed out-of-line chunks (PostgreSQL's CPU per page 3.4 →
-- 2.7 ms, the table 82 → 17 MB for 200 such pages; docs/benchmarks.md). pglz, the default method, would cost more
-- CPU than the chunks it saves, so a server without lz4 (PGlite is built without it) keeps the pages uncompressed
-- out of line, as migration 0005 left them. Only pages written from now on are compressed.
DO $$ BEGIN ALTER TABLE event_pages ALTER COLUMN events SET COMPRESSION lz4, ALTER COLUMN events SET STORAGE EXTENDED ; EXCEPTION WHEN feature_not_supported THEN NULL ; END $$;
