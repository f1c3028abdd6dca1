//! The people a server knows, their invites and failed sign-ins (see
//! `migrations/0009_accounts.sql`): [`People`] for [`SqliteRecords`].

use rollcoach_engine::Time;
use rollcoach_store::{
    Conflict, Device, NewDevice, NewInvite, NotFound, People, PersonId, PersonInfo, Result, Role,
    SIGN_IN_WINDOW_MS, check_name,
};
use rusqlite::{Connection, OptionalExtension, params};

use crate::devices::{insert_device, new_device};
use crate::rows::{ms, time};
use crate::{SqliteRecords, SqliteStore};

const COLUMNS: &str = "id, role, name, coach, created_at";

/// A `people` row as `add_person` compares it: role, name, coach, time
/// added, password hash.
type Stored = (String, String, Option<String>, i64, Option<String>);

fn person_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PersonInfo> {
    let id = |i: usize, text: String| {
        PersonId::parse(&text).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into())
        })
    };
    let role: String = r.get(1)?;
    Ok(PersonInfo {
        id: id(0, r.get(0)?)?,
        role: if role == "coach" {
            Role::Coach
        } else {
            Role::Client
        },
        name: r.get(2)?,
        coach: r
            .get::<_, Option<String>>(3)?
            .map(|c| id(3, c))
            .transpose()?,
        created_at: time(r.get(4)?),
    })
}

/// A bad name as the store says it (the server checks names first).
fn bad_name(why: String) -> rollcoach_store::StoreError {
    Conflict::Constraint {
        location: "people".to_owned(),
        source: why.into(),
    }
    .into()
}

fn is_coach(conn: &Connection, id: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT count(*) FROM people WHERE id = ?1 AND role = 'coach'",
        [id],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n > 0)
}

impl SqliteStore {
    fn add_coach(&self, name: &str, now: Time) -> Result<PersonInfo> {
        let name = check_name(name).map_err(bad_name)?;
        self.write_with(|conn| {
            let taken: i64 = conn
                .query_row(
                    "SELECT count(*) FROM people WHERE role = 'coach' AND lower(name) = lower(?1)",
                    [name],
                    |r| r.get(0),
                )
                .map_err(self.err())?;
            if taken > 0 {
                return Err(Conflict::CoachName {
                    name: name.to_owned(),
                }
                .into());
            }
            let id: String = conn
                .query_row("SELECT 'coach-' || lower(hex(randomblob(6)))", [], |r| {
                    r.get(0)
                })
                .map_err(self.err())?;
            conn.execute(
                "INSERT INTO people (id, role, name, coach, created_at)
                 VALUES (?1, 'coach', ?2, NULL, ?3)",
                params![id, name, ms(now)],
            )
            .map_err(self.err())?;
            Ok(PersonInfo {
                id: PersonId::parse(&id).map_err(|e| bad_name(e.to_string()))?,
                role: Role::Coach,
                name: name.to_owned(),
                coach: None,
                created_at: now,
            })
        })
    }

    fn people_where(&self, filter: &str, arg: &str) -> Result<Vec<PersonInfo>> {
        let sql = format!("SELECT {COLUMNS} FROM people WHERE {filter} ORDER BY created_at, id");
        let mut stmt = self.conn.prepare_cached(&sql).map_err(self.err())?;
        let rows = stmt.query_map([arg], person_row).map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    fn person(&self, id: &PersonId) -> Result<Option<PersonInfo>> {
        if id.is_owner() {
            return Ok(Some(PersonInfo::owner()));
        }
        Ok(self.people_where("id = ?1", id.as_str())?.pop())
    }

    fn coach_by_name(&self, name: &str) -> Result<Option<(PersonInfo, Option<String>)>> {
        let sql = format!(
            "SELECT {COLUMNS}, password_hash FROM people
              WHERE role = 'coach' AND lower(name) = lower(?1)"
        );
        self.conn
            .query_row(&sql, [name.trim()], |r| Ok((person_row(r)?, r.get(5)?)))
            .optional()
            .map_err(self.err())
    }

    fn set_password_hash(&self, coach: &PersonId, hash: &str) -> Result<()> {
        let changed = self.write(|conn| {
            conn.execute(
                "UPDATE people SET password_hash = ?2 WHERE id = ?1 AND role = 'coach'",
                params![coach.as_str(), hash],
            )
        })?;
        if changed == 0 {
            return Err(NotFound::Person(coach.to_string()).into());
        }
        Ok(())
    }

    fn client_of(&self, coach: &PersonId, client: &PersonId) -> Result<PersonInfo> {
        let sql = format!("SELECT {COLUMNS} FROM people WHERE id = ?1 AND coach = ?2");
        self.conn
            .query_row(&sql, [client.as_str(), coach.as_str()], person_row)
            .optional()
            .map_err(self.err())?
            .ok_or_else(|| NotFound::Person(client.to_string()).into())
    }

    fn add_invite(&self, coach: &PersonId, invite: &NewInvite<'_>) -> Result<()> {
        self.write_with(|conn| {
            if !is_coach(conn, coach.as_str()).map_err(self.err())? {
                return Err(NotFound::Person(coach.to_string()).into());
            }
            conn.execute(
                "DELETE FROM invites WHERE expires_at <= ?1",
                [ms(invite.created_at)],
            )
            .map_err(self.err())?;
            conn.execute(
                "INSERT INTO invites (token_hash, coach, name, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    invite.token_hash,
                    coach.as_str(),
                    invite.name,
                    ms(invite.created_at),
                    ms(invite.expires_at)
                ],
            )
            .map_err(self.err())?;
            Ok(())
        })
    }

    fn redeem_invite(
        &self,
        token_hash: &str,
        now: Time,
        client: &PersonId,
        device: &NewDevice<'_>,
    ) -> Result<Option<(PersonInfo, Device)>> {
        self.write_with(|conn| {
            let spent: Option<(String, Option<String>)> = conn
                .query_row(
                    "DELETE FROM invites WHERE token_hash = ?1 AND expires_at > ?2
                     RETURNING coach, name",
                    params![token_hash, ms(now)],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(self.err())?;
            let Some((coach, name)) = spent else {
                return Ok(None);
            };
            let name = name.unwrap_or_default();
            conn.execute(
                "INSERT INTO people (id, role, name, coach, created_at)
                 VALUES (?1, 'client', ?2, ?3, ?4)",
                params![client.as_str(), name, coach, ms(now)],
            )
            .map_err(self.err())?;
            insert_device(conn, client.as_str(), device).map_err(self.err())?;
            let coach = PersonId::parse(&coach).map_err(|e| bad_name(e.to_string()))?;
            Ok(Some((
                PersonInfo {
                    id: client.clone(),
                    role: Role::Client,
                    name,
                    coach: Some(coach),
                    created_at: now,
                },
                new_device(client.clone(), device),
            )))
        })
    }

    fn note_sign_in_failure(&self, key: &str, now: Time) -> Result<u32> {
        let since = ms(now) - SIGN_IN_WINDOW_MS as i64;
        self.write(|conn| {
            conn.execute(
                "DELETE FROM sign_in_failures WHERE key = ?1 AND at <= ?2",
                params![key, since],
            )?;
            conn.execute(
                "INSERT INTO sign_in_failures (key, at) VALUES (?1, ?2)",
                params![key, ms(now)],
            )?;
            conn.query_row(
                "SELECT count(*) FROM sign_in_failures WHERE key = ?1 AND at > ?2",
                params![key, since],
                |r| r.get::<_, i64>(0),
            )
        })
        .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
    }

    fn sign_in_failures(&self, key: &str, now: Time) -> Result<u32> {
        let since = ms(now) - SIGN_IN_WINDOW_MS as i64;
        self.conn
            .query_row(
                "SELECT count(*) FROM sign_in_failures WHERE key = ?1 AND at > ?2",
                params![key, since],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
            .map_err(self.err())
    }

    fn clear_sign_in_failures(&self, key: &str) -> Result<()> {
        self.write(|conn| conn.execute("DELETE FROM sign_in_failures WHERE key = ?1", [key]))?;
        Ok(())
    }

    fn add_person(&self, person: &PersonInfo, password_hash: Option<&str>) -> Result<bool> {
        let role = match person.role {
            Role::Owner => return Ok(false),
            Role::Coach => "coach",
            Role::Client => "client",
        };
        self.write_with(|conn| {
            let there: Option<Stored> = conn
                .query_row(
                    "SELECT role, name, coach, created_at, password_hash FROM people WHERE id = ?1",
                    [person.id.as_str()],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
                )
                .optional()
                .map_err(self.err())?;
            let coach = person.coach.as_ref().map(PersonId::as_str);
            if let Some(there) = there {
                if there
                    == (
                        role.to_owned(),
                        person.name.clone(),
                        coach.map(str::to_owned),
                        ms(person.created_at),
                        password_hash.map(str::to_owned),
                    )
                {
                    return Ok(false);
                }
                return Err(bad_name(format!(
                    "the id {} is someone else's here already",
                    person.id
                )));
            }
            conn.execute(
                "INSERT INTO people (id, role, name, coach, password_hash, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    person.id.as_str(),
                    role,
                    person.name,
                    coach,
                    password_hash,
                    ms(person.created_at)
                ],
            )
            .map_err(self.err())?;
            Ok(true)
        })
    }

    fn password_hash(&self, coach: &PersonId) -> Result<Option<String>> {
        self.conn
            .query_row(
                "SELECT password_hash FROM people WHERE id = ?1 AND role = 'coach'",
                [coach.as_str()],
                |r| r.get(0),
            )
            .optional()
            .map(Option::flatten)
            .map_err(self.err())
    }
}

impl People for SqliteRecords {
    fn add_coach(&self, name: &str, now: Time) -> Result<PersonInfo> {
        self.write(|s| s.add_coach(name, now))
    }

    fn coaches(&self) -> Result<Vec<PersonInfo>> {
        self.read(|s| s.people_where("role = ?1", "coach"))
    }

    fn add_person(&self, person: &PersonInfo, password_hash: Option<&str>) -> Result<bool> {
        self.write(|s| s.add_person(person, password_hash))
    }

    fn password_hash(&self, coach: &PersonId) -> Result<Option<String>> {
        self.read(|s| s.password_hash(coach))
    }

    fn person(&self, id: &PersonId) -> Result<Option<PersonInfo>> {
        self.read(|s| s.person(id))
    }

    fn coach_by_name(&self, name: &str) -> Result<Option<(PersonInfo, Option<String>)>> {
        self.read(|s| s.coach_by_name(name))
    }

    fn set_password_hash(&self, coach: &PersonId, hash: &str) -> Result<()> {
        self.write(|s| s.set_password_hash(coach, hash))
    }

    fn clients(&self, coach: &PersonId) -> Result<Vec<PersonInfo>> {
        self.read(|s| s.people_where("coach = ?1", coach.as_str()))
    }

    fn client_of(&self, coach: &PersonId, client: &PersonId) -> Result<PersonInfo> {
        self.read(|s| s.client_of(coach, client))
    }

    fn add_invite(&self, coach: &PersonId, invite: &NewInvite<'_>) -> Result<()> {
        self.write(|s| s.add_invite(coach, invite))
    }

    fn redeem_invite(
        &self,
        token_hash: &str,
        now: Time,
        client: &PersonId,
        device: &NewDevice<'_>,
    ) -> Result<Option<(PersonInfo, Device)>> {
        self.write(|s| s.redeem_invite(token_hash, now, client, device))
    }

    fn note_sign_in_failure(&self, key: &str, now: Time) -> Result<u32> {
        self.write(|s| s.note_sign_in_failure(key, now))
    }

    fn sign_in_failures(&self, key: &str, now: Time) -> Result<u32> {
        self.read(|s| s.sign_in_failures(key, now))
    }

    fn clear_sign_in_failures(&self, key: &str) -> Result<()> {
        self.write(|s| s.clear_sign_in_failures(key))
    }
}
