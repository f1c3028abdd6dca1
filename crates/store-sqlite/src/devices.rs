//! Devices and one-time pairing links (see `migrations/0006_devices.sql`).

use rollcoach_engine::Time;
use rollcoach_store::{Device, NewDevice, NewPairingToken, Result};
use rusqlite::{Connection, OptionalExtension, params};

use crate::SqliteStore;
use crate::rows::{ms, time};

const COLUMNS: &str = "id, name, via, created_at, last_seen_at, revoked_at";

fn device_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Device> {
    Ok(Device {
        id: r.get(0)?,
        name: r.get(1)?,
        via: r.get(2)?,
        created_at: time(r.get(3)?),
        last_seen_at: r.get::<_, Option<i64>>(4)?.map(time),
        revoked_at: r.get::<_, Option<i64>>(5)?.map(time),
    })
}

fn insert_device(conn: &Connection, new: &NewDevice<'_>) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO devices (id, name, via, secret_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            new.id,
            new.name,
            new.via,
            new.secret_hash,
            ms(new.created_at)
        ],
    )?;
    Ok(())
}

/// The record of a device just added.
fn new_device(new: &NewDevice<'_>) -> Device {
    Device {
        id: new.id.to_owned(),
        name: new.name.to_owned(),
        via: new.via.to_owned(),
        created_at: new.created_at,
        last_seen_at: None,
        revoked_at: None,
    }
}

impl SqliteStore {
    pub(crate) fn add_device(&self, new: &NewDevice<'_>) -> Result<Device> {
        self.write(|conn| insert_device(conn, new))?;
        Ok(new_device(new))
    }

    fn device(&self, id: &str) -> Result<Option<Device>> {
        let sql = format!("SELECT {COLUMNS} FROM devices WHERE id = ?1");
        self.conn
            .query_row(&sql, [id], device_row)
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

    pub(crate) fn devices(&self) -> Result<Vec<Device>> {
        let sql = format!("SELECT {COLUMNS} FROM devices ORDER BY created_at, id");
        let mut stmt = self.conn.prepare_cached(&sql).map_err(self.err())?;
        let rows = stmt.query_map([], device_row).map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    pub(crate) fn revoke_device(&self, id: &str, now: Time) -> Result<Option<Device>> {
        self.write(|conn| {
            conn.execute(
                "UPDATE devices SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                params![id, ms(now)],
            )
        })?;
        self.device(id)
    }

    pub(crate) fn touch_device(&self, id: &str, now: Time) -> Result<()> {
        self.write(|conn| {
            conn.execute(
                "UPDATE devices SET last_seen_at = ?2 WHERE id = ?1",
                params![id, ms(now)],
            )
        })?;
        Ok(())
    }

    pub(crate) fn add_pairing_token(&self, token: &NewPairingToken<'_>) -> Result<()> {
        self.write(|conn| {
            conn.execute(
                "DELETE FROM pairing_tokens WHERE expires_at <= ?1",
                [ms(token.created_at)],
            )?;
            conn.execute(
                "INSERT INTO pairing_tokens (token_hash, created_by, created_at, expires_at) \
                 VALUES (?1, ?2, ?3, ?4)",
                params![
                    token.token_hash,
                    token.created_by,
                    ms(token.created_at),
                    ms(token.expires_at)
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
        let spent = self.write(|conn| {
            let n = conn.execute(
                "DELETE FROM pairing_tokens WHERE token_hash = ?1 AND expires_at > ?2",
                params![token_hash, ms(now)],
            )?;
            if n == 1 {
                insert_device(conn, device)?;
            }
            Ok(n == 1)
        })?;
        Ok(spent.then(|| new_device(device)))
    }
}
