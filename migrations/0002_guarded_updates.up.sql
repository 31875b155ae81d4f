-- The guard of a unit of work's multi-row updates, checked inside its write script so that the COMMIT can go
-- out in the same round trip: fewer rows changed than loaded means a row moved on underneath, and the unit is
-- rerun on fresh rows. SQLSTATE HW001 is Hive's own (no standard class uses HW).
-- (One line: the migrator splits statements at a semicolon that ends a line.)
CREATE OR REPLACE FUNCTION hive_expect_rows(actual bigint, expected bigint, what text) RETURNS void LANGUAGE plpgsql AS $$ BEGIN IF actual <> expected THEN RAISE EXCEPTION '% changed underneath a guarded update', what USING ERRCODE = 'HW001'; END IF; END $$;
