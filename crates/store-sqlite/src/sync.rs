//! Sync's writes and reads: a verified pushed session stored by uid, and a
//! person's changes after a cursor (the `changes` table, kept by triggers:
//! `migrations/0007_people.sql`; a cursor is a change's number among its
//! person's, `migrations/0008_uid_per_person.sql`).

use rollcoach_store::{
    Accepted, Change, ChangeCursor, NotFound, PersonId, Result, StoreError, VerifiedSession,
};

use crate::SqliteStore;

impl SqliteStore {
    pub(crate) fn accept_session(
        &self,
        person: &PersonId,
        session: &VerifiedSession,
    ) -> Result<Accepted> {
        self.write_with(|conn| {
            if self
                .insert_session(conn, person, session.record())?
                .is_some()
            {
                return Ok(Accepted::Stored);
            }
            // Under this uid already: the same session, or another one
            // (read in the same transaction as the insert that did not
            // happen).
            let Ok(id) = self.session_id_of(person, session.uid()) else {
                return Ok(Accepted::Differs);
            };
            let same = session.is_stored_as(
                &self.session(id)?,
                &self.events(id)?,
                &self.protocol_json(id)?,
            );
            Ok(if same {
                Accepted::Already
            } else {
                Accepted::Differs
            })
        })
    }

    pub(crate) fn changes_since(
        &self,
        person: &PersonId,
        since: Option<&ChangeCursor>,
        limit: usize,
    ) -> Result<Vec<(ChangeCursor, Change)>> {
        let rows: Vec<(i64, String, String)> = {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT number, kind, uid FROM changes WHERE person = ?1 AND number > ?2
                      ORDER BY number LIMIT ?3",
                )
                .map_err(self.err())?;
            stmt.query_map(
                rusqlite::params![
                    person.as_str(),
                    since.map_or(0, ChangeCursor::position),
                    i64::try_from(limit).unwrap_or(i64::MAX)
                ],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .map_err(self.err())?
            .collect::<Result<_, _>>()
            .map_err(self.err())?
        };
        let mut out = Vec::with_capacity(rows.len());
        for (number, kind, uid) in rows {
            let change = if kind == "session" {
                self.session_by_uid(person, &uid).map(Change::Session)
            } else {
                self.injury(person, &uid).map(Change::Injury)
            };
            match change {
                Ok(c) => out.push((ChangeCursor::at(number), c)),
                // Removed since (an undone import): nothing to pull.
                Err(StoreError::NotFound(NotFound::SessionUid(_) | NotFound::InjuryUid(_))) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }
}
