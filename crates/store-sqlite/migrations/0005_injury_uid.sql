-- Schema 5 (issue 13, finding 4): every injury has a globally unique id, as
-- sessions do; export writes it and import deduplicates injuries by it
-- (before, by area, time and logging time: two injuries logged in the same
-- millisecond became one, perhaps the cleared one).
--
-- New injuries get `rollcoach_store::new_uid(created_at)`. Injuries already
-- here get their legacy uid, `rollcoach_store::legacy_injury_uid`:
-- `<created_at, 12 hex digits>-<at, 12 hex digits>-<n>-<area>`, `n` (from 1)
-- the injury's rank by id among those of the same area, time and logging
-- time. An export document of version 1 (injuries without uids) derives the
-- same uids (it lists injuries by id), so importing an old export of this
-- file adds nothing twice.
ALTER TABLE injuries ADD COLUMN uid TEXT NOT NULL DEFAULT '';

UPDATE injuries SET uid = printf('%012x-%012x-%d-%s', created_at, at,
    (SELECT count(*) FROM injuries AS same
      WHERE same.area = injuries.area AND same.at = injuries.at
        AND same.created_at = injuries.created_at AND same.id <= injuries.id),
    area);

CREATE UNIQUE INDEX injuries_uid ON injuries (uid);
