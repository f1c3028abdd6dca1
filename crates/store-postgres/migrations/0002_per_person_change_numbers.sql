-- Change cursors per person (issue 20): a person's changes are numbered
-- 1, 2, 3... among their own, so a cursor tells its holder nothing of how
-- much anyone else did (the table-wide `seq` counted everyone's). The last
-- number given is kept per person in `change_counters`, never lowered: a
-- change removed (an undone import) never lets its number be given again,
-- so a cursor past it skips nothing.
CREATE TABLE change_counters (
    person text COLLATE "C" PRIMARY KEY,
    last   bigint NOT NULL
);

-- Number what is there, person by person, in the order it was written.
-- The owner of the tables runs this with row-level security unforced, so
-- every person's rows are numbered, not only a person's set in the
-- transaction.
ALTER TABLE changes NO FORCE ROW LEVEL SECURITY;
ALTER TABLE changes ADD COLUMN number bigint;
UPDATE changes SET number = n.number
  FROM (SELECT seq, row_number() OVER (PARTITION BY person ORDER BY seq) AS number
          FROM changes) AS n
 WHERE changes.seq = n.seq;
INSERT INTO change_counters (person, last)
     SELECT person, max(number) FROM changes GROUP BY person;
ALTER TABLE changes ALTER COLUMN number SET NOT NULL;
ALTER TABLE changes FORCE ROW LEVEL SECURITY;
DROP INDEX changes_by_person;
CREATE UNIQUE INDEX changes_by_person ON changes (person, number);

-- The person's lock, then the person's counter: its row lock too is held
-- to commit, so one person's changes commit in the order of their numbers.
CREATE OR REPLACE FUNCTION rollcoach_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM changes WHERE person = OLD.person AND kind = TG_ARGV[0] AND uid = OLD.uid;
        RETURN OLD;
    END IF;
    PERFORM pg_advisory_xact_lock(1919, hashtext(NEW.person));
    INSERT INTO change_counters AS c (person, last) VALUES (NEW.person, 1)
        ON CONFLICT (person) DO UPDATE SET last = c.last + 1
        RETURNING last INTO n;
    INSERT INTO changes (person, kind, uid, number) VALUES (NEW.person, TG_ARGV[0], NEW.uid, n);
    RETURN NEW;
END $$;

ALTER TABLE change_counters ENABLE ROW LEVEL SECURITY;
ALTER TABLE change_counters FORCE ROW LEVEL SECURITY;
CREATE POLICY by_person ON change_counters
    USING (person = current_setting('rollcoach.person', true))
    WITH CHECK (person = current_setting('rollcoach.person', true));
GRANT SELECT, INSERT, UPDATE ON change_counters TO rollcoach_app;
