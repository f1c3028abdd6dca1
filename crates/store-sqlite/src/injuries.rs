//! The injury log, and the facts a new session starts with.

use rollcoach_engine::{Facts, InjuryFact, Time};
use rollcoach_protocol::Protocol;
use rollcoach_store::{Conflict, Injury, InjuryId, NotFound, Result, new_uid};
use rusqlite::params;

use crate::SqliteStore;
use crate::rows::{ms, time};

impl SqliteStore {
    pub(crate) fn add_injury(
        &self,
        area: &str,
        at: Time,
        note: Option<&str>,
        created_at: Time,
    ) -> Result<Injury> {
        let id = self.write(|conn| {
            conn.execute(
                "INSERT INTO injuries (uid, area, at, note, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![new_uid(created_at), area, ms(at), note, ms(created_at)],
            )?;
            Ok(InjuryId(conn.last_insert_rowid()))
        })?;
        self.injury(id)
    }

    pub(crate) fn injury(&self, id: InjuryId) -> Result<Injury> {
        self.injuries_where("WHERE id = ?1", [id.0])?
            .pop()
            .ok_or(NotFound::Injury(id).into())
    }

    pub(crate) fn list_injuries(&self) -> Result<Vec<Injury>> {
        self.injuries_where("ORDER BY at, id", [])
    }

    pub(crate) fn clear_injury(&self, id: InjuryId, now: Time) -> Result<Injury> {
        let n = self.write(|conn| {
            conn.execute(
                "UPDATE injuries SET cleared_at = ?2 WHERE id = ?1 AND cleared_at IS NULL",
                params![id.0, ms(now)],
            )
        })?;
        let injury = self.injury(id)?;
        if n == 0 {
            return Err(Conflict::InjuryAlreadyCleared {
                id,
                cleared_at: injury.cleared_at.unwrap_or_default().into(),
            }
            .into());
        }
        Ok(injury)
    }

    pub(crate) fn facts_for(&self, protocol: &Protocol) -> Result<Facts> {
        let injuries = self
            .injuries_where(
                "WHERE area = ?1 AND cleared_at IS NULL ORDER BY at, id",
                [&protocol.area],
            )?
            .into_iter()
            .map(|i| InjuryFact {
                at: i.at,
                note: i.note,
            })
            .collect();
        Ok(Facts {
            injuries,
            last_pairing: self.last_pairing(&protocol.id)?,
        })
    }

    fn injuries_where(&self, tail: &str, params: impl rusqlite::Params) -> Result<Vec<Injury>> {
        let sql =
            format!("SELECT id, uid, area, at, note, created_at, cleared_at FROM injuries {tail}");
        let mut stmt = self.conn.prepare_cached(&sql).map_err(self.err())?;
        let rows = stmt
            .query_map(params, |r| {
                Ok(Injury {
                    id: InjuryId(r.get(0)?),
                    uid: r.get(1)?,
                    area: r.get(2)?,
                    at: time(r.get(3)?),
                    note: r.get(4)?,
                    created_at: time(r.get(5)?),
                    cleared_at: r.get::<_, Option<i64>>(6)?.map(time),
                })
            })
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }
}
