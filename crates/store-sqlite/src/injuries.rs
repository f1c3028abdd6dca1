//! The injury log, and the facts a new session starts with
//! ([`rollcoach_store::rules::facts`] of the rows read here).

use rollcoach_engine::{Facts, Time};
use rollcoach_protocol::Protocol;
use rollcoach_store::{Conflict, Injury, NewInjury, NotFound, PersonId, Result, new_uid, rules};
use rusqlite::params;

use crate::SqliteStore;
use crate::rows::{ms, time};

impl SqliteStore {
    pub(crate) fn add_injury(&self, person: &PersonId, new: &NewInjury) -> Result<Injury> {
        let uid = new_uid(new.created_at);
        self.write(|conn| {
            conn.execute(
                "INSERT INTO injuries (uid, area, at, note, created_at, person, number)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6,
                     (SELECT coalesce(max(number), 0) + 1 FROM injuries WHERE person = ?6))",
                params![
                    uid,
                    new.area,
                    ms(new.at),
                    new.note,
                    ms(new.created_at),
                    person.as_str()
                ],
            )
        })?;
        self.injury(person, &uid)
    }

    /// The person's injury with this uid.
    pub(crate) fn injury(&self, person: &PersonId, uid: &str) -> Result<Injury> {
        self.injuries_where("WHERE person = ?1 AND uid = ?2", [person.as_str(), uid])?
            .pop()
            .ok_or_else(|| NotFound::InjuryUid(uid.chars().take(128).collect()).into())
    }

    pub(crate) fn list_injuries(&self, person: &PersonId) -> Result<Vec<Injury>> {
        self.injuries_where("WHERE person = ?1 ORDER BY at, id", [person.as_str()])
    }

    pub(crate) fn clear_injury(&self, person: &PersonId, uid: &str, now: Time) -> Result<Injury> {
        let n = self.write(|conn| {
            conn.execute(
                "UPDATE injuries SET cleared_at = ?3
                  WHERE person = ?1 AND uid = ?2 AND cleared_at IS NULL",
                params![person.as_str(), uid, ms(now)],
            )
        })?;
        let injury = self.injury(person, uid)?;
        if n == 0 {
            return Err(Conflict::InjuryAlreadyCleared {
                uid: injury.uid.clone(),
                cleared_at: injury.cleared_at.unwrap_or_default().into(),
            }
            .into());
        }
        Ok(injury)
    }

    pub(crate) fn facts_for(&self, person: &PersonId, protocol: &Protocol) -> Result<Facts> {
        let open = self.injuries_where(
            "WHERE person = ?1 AND area = ?2 AND cleared_at IS NULL ORDER BY at, id",
            [person.as_str(), protocol.area.as_str()],
        )?;
        Ok(rules::facts(
            &protocol.area,
            &open,
            self.last_pairing(person, &protocol.id)?,
        ))
    }

    fn injuries_where(&self, tail: &str, params: impl rusqlite::Params) -> Result<Vec<Injury>> {
        let sql = format!(
            "SELECT uid, area, at, note, created_at, cleared_at, number FROM injuries {tail}"
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(self.err())?;
        let rows = stmt
            .query_map(params, |r| {
                Ok(Injury {
                    number: r.get(6)?,
                    uid: r.get(0)?,
                    area: r.get(1)?,
                    at: time(r.get(2)?),
                    note: r.get(3)?,
                    created_at: time(r.get(4)?),
                    cleared_at: r.get::<_, Option<i64>>(5)?.map(time),
                })
            })
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }
}
