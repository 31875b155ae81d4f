DROP FUNCTION IF EXISTS hive_expect_rows(bigint, bigint, text);
