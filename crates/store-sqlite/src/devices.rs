//! Devices and one-time pairing links (see `migrations/0006_devices.sql`).

use rollcoach_engine::Time;
use rollcoach_store::{Device, NewDevice, NewPairingToken, PersonId, Result};
use rusqlite::{Connection, OptionalExtension, params};

use crate::SqliteStore;
use crate::rows::{ms, time};

const COLUMNS: &str = "id, name, via, created_at, last_seen_at, revoked_at, person";

fn device_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Device> {
    Ok(Device {
        id: r.get(0)?,
        name: r.get(1)?,
        via: r.get(2)?,
        created_at: time(r.get(3)?),
        last_seen_at: r.get::<_, Option<i64>>(4)?.map(time),
        revoked_at: r.get::<_, Option<i64>>(5)?.map(time),
        person: {
            let p: String = r.get(6)?;
            PersonId::parse(&p).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(6, rusqlite::types::Type::Text, e.into())
            })?
        },
    })
}

pub(crate) fn insert_device(
    conn: &Connection,
    person: &str,
    new: &NewDevice<'_>,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO devices (id, name, via, secret_hash, created_at, person)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            new.id,
            new.name,
            new.via,
            new.secret_hash,
            ms(new.created_at),
            person
        ],
    )?;
    Ok(())
}

/// The record of a device just added.
pub(crate) fn new_device(person: PersonId, new: &NewDevice<'_>) -> Device {
    Device {
        id: new.id.to_owned(),
        person,
        name: new.name.to_owned(),
        via: new.via.to_owned(),
        created_at: new.created_at,
        last_seen_at: None,
        revoked_at: None,
    }
}

impl SqliteStore {
    pub(crate) fn add_device(&self, person: &PersonId, new: &NewDevice<'_>) -> Result<Device> {
        self.write(|conn| insert_device(conn, person.as_str(), new))?;
        Ok(new_device(person.clone(), new))
    }

    fn device(&self, person: &PersonId, id: &str) -> Result<Option<Device>> {
        let sql = format!("SELECT {COLUMNS} FROM devices WHERE person = ?1 AND id = ?2");
        self.conn
            .query_row(&sql, [person.as_str(), id], device_row)
            .optional()
            .map_err(self.err())
    }

    pub(crate) fn device_by_secret(&self, secret_hash: &str) -> Result<Option<Device>> {
        let sql =
            format!("SELECT {COLUMNS} FROM devices WHERE secret_hash = ?1 AND revoked_at IS NULL");
        let mut stmt = self.conn.prepare_cached(&sql).map_err(self.err())?;
        stmt.query_row([secret_hash], device_row)
            .optional()
            .map_err(self.err())
    }

    pub(crate) fn devices(&self, person: &PersonId) -> Result<Vec<Device>> {
        let sql =
            format!("SELECT {COLUMNS} FROM devices WHERE person = ?1 ORDER BY created_at, id");
        let mut stmt = self.conn.prepare_cached(&sql).map_err(self.err())?;
        let rows = stmt
            .query_map([person.as_str()], device_row)
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    pub(crate) fn device_secret_hashes(&self, person: &PersonId) -> Result<Vec<(String, String)>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, secret_hash FROM devices WHERE person = ?1 ORDER BY created_at, id",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map([person.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    pub(crate) fn revoke_device(
        &self,
        person: &PersonId,
        id: &str,
        now: Time,
    ) -> Result<Option<Device>> {
        self.write(|conn| {
            conn.execute(
                "UPDATE devices SET revoked_at = ?3
                  WHERE person = ?1 AND id = ?2 AND revoked_at IS NULL",
                params![person.as_str(), id, ms(now)],
            )
        })?;
        self.device(person, id)
    }

    pub(crate) fn touch_device(&self, person: &PersonId, id: &str, now: Time) -> Result<()> {
        self.write(|conn| {
            conn.execute(
                "UPDATE devices SET last_seen_at = ?3 WHERE person = ?1 AND id = ?2",
                params![person.as_str(), id, ms(now)],
            )
        })?;
        Ok(())
    }

    pub(crate) fn add_pairing_token(
        &self,
        person: &PersonId,
        token: &NewPairingToken<'_>,
    ) -> Result<()> {
        self.write(|conn| {
            conn.execute(
                "DELETE FROM pairing_tokens WHERE expires_at <= ?1",
                [ms(token.created_at)],
            )?;
            conn.execute(
                "INSERT INTO pairing_tokens (token_hash, created_by, created_at, expires_at, person) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    token.token_hash,
                    token.created_by,
                    ms(token.created_at),
                    ms(token.expires_at),
                    person.as_str()
                ],
            )?;
            Ok(())
        })
    }

    pub(crate) fn redeem_pairing_token(
        &self,
        token_hash: &str,
        now: Time,
        device: &NewDevice<'_>,
    ) -> Result<Option<Device>> {
        let spent: Option<String> = self.write(|conn| {
            let person: Option<String> = conn
                .query_row(
                    "DELETE FROM pairing_tokens WHERE token_hash = ?1 AND expires_at > ?2
                     RETURNING person",
                    params![token_hash, ms(now)],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(person) = &person {
                insert_device(conn, person, device)?;
            }
            Ok(person)
        })?;
        spent
            .map(|p| {
                let person = PersonId::parse(&p).map_err(|e| {
                    self.err()(rusqlite::Error::FromSqlConversionFailure(
                        0,
                        rusqlite::types::Type::Text,
                        e.into(),
                    ))
                })?;
                Ok(new_device(person, device))
            })
            .transpose()
    }
}
