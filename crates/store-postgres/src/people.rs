//! The people a server knows, their invites and failed sign-ins (see
//! `migrations/0003_accounts.sql`): [`People`] for [`PgRecords`], answering
//! as SQLite's does (the conformance suite's `people_suite!` checks both).
//! Each call is one transaction; the server's list of people has no
//! row-level security, but a client's first device, written when their
//! invite is spent, is written in that client's scope.

use postgres::Row;
use rollcoach_engine::Time;
use rollcoach_store::{
    Conflict, Device, NewDevice, NewInvite, NotFound, People, PersonId, PersonInfo, Result, Role,
    SIGN_IN_WINDOW_MS, check_name,
};

use crate::PgRecords;
use crate::pool::Conn;
use crate::records::{insert_device, ms, new_device, person_of, time};

const COLUMNS: &str = "id, role, name, coach, created_at";

fn person_row(c: &Conn, r: &Row) -> Result<PersonInfo> {
    let role: &str = r.get(1);
    Ok(PersonInfo {
        id: person_of(c, r.get(0))?,
        role: if role == "coach" {
            Role::Coach
        } else {
            Role::Client
        },
        name: r.get(2),
        coach: r
            .get::<_, Option<&str>>(3)
            .map(|coach| person_of(c, coach))
            .transpose()?,
        created_at: time(r.get(4)),
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

fn u32_count(r: &Row) -> u32 {
    u32::try_from(r.get::<_, i64>(0)).unwrap_or(u32::MAX)
}

impl PgRecords {
    /// Runs `f` in a transaction of its own, in no person's scope.
    fn unscoped<T>(&self, f: impl FnOnce(&mut Conn) -> Result<T>) -> Result<T> {
        self.pool.with(|c| c.transaction(&[], f))
    }

    fn people_where(&self, filter: &str, arg: &str) -> Result<Vec<PersonInfo>> {
        self.unscoped(|c| {
            let sql =
                format!("SELECT {COLUMNS} FROM people WHERE {filter} ORDER BY created_at, id");
            let rows = c.query(&sql, &[&arg])?;
            rows.iter().map(|r| person_row(c, r)).collect()
        })
    }
}

impl People for PgRecords {
    fn add_coach(&self, name: &str, now: Time) -> Result<PersonInfo> {
        let name = check_name(name).map_err(bad_name)?;
        self.unscoped(|c| {
            // The name's uniqueness is the index's: two servers adding the
            // same name at once add one coach.
            let added = c.query_opt(
                "INSERT INTO people (id, role, name, coach, created_at)
                 VALUES ('coach-' || substr(md5(gen_random_uuid()::text), 1, 12), 'coach', $1,
                         NULL, $2)
                 ON CONFLICT (lower(name)) WHERE role = 'coach' DO NOTHING
                 RETURNING id",
                &[&name, &ms(now)],
            )?;
            let Some(row) = added else {
                return Err(Conflict::CoachName {
                    name: name.to_owned(),
                }
                .into());
            };
            Ok(PersonInfo {
                id: person_of(c, row.get(0))?,
                role: Role::Coach,
                name: name.to_owned(),
                coach: None,
                created_at: now,
            })
        })
    }

    fn coaches(&self) -> Result<Vec<PersonInfo>> {
        self.people_where("role = $1", "coach")
    }

    fn add_person(&self, person: &PersonInfo, password_hash: Option<&str>) -> Result<bool> {
        let role = match person.role {
            Role::Owner => return Ok(false),
            Role::Coach => "coach",
            Role::Client => "client",
        };
        let coach = person.coach.as_ref().map(PersonId::as_str);
        self.unscoped(|c| {
            let added = c.execute(
                "INSERT INTO people (id, role, name, coach, password_hash, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
                &[
                    &person.id.as_str(),
                    &role,
                    &person.name,
                    &coach,
                    &password_hash,
                    &ms(person.created_at),
                ],
            )?;
            if added == 1 {
                return Ok(true);
            }
            let same = c
                .query_opt(
                    "SELECT 1 FROM people WHERE id = $1 AND role = $2 AND name = $3
                        AND coach IS NOT DISTINCT FROM $4 AND created_at = $5
                        AND password_hash IS NOT DISTINCT FROM $6",
                    &[
                        &person.id.as_str(),
                        &role,
                        &person.name,
                        &coach,
                        &ms(person.created_at),
                        &password_hash,
                    ],
                )?
                .is_some();
            if same {
                Ok(false)
            } else {
                Err(bad_name(format!(
                    "the id {} is someone else's here already",
                    person.id
                )))
            }
        })
    }

    fn password_hash(&self, coach: &PersonId) -> Result<Option<String>> {
        self.unscoped(|c| {
            Ok(c.query_opt(
                "SELECT password_hash FROM people WHERE id = $1 AND role = 'coach'",
                &[&coach.as_str()],
            )?
            .and_then(|r| r.get(0)))
        })
    }

    fn person(&self, id: &PersonId) -> Result<Option<PersonInfo>> {
        if id.is_owner() {
            return Ok(Some(PersonInfo::owner()));
        }
        Ok(self.people_where("id = $1", id.as_str())?.pop())
    }

    fn coach_by_name(&self, name: &str) -> Result<Option<(PersonInfo, Option<String>)>> {
        self.unscoped(|c| {
            let sql = format!(
                "SELECT {COLUMNS}, password_hash FROM people
                  WHERE role = 'coach' AND lower(name) = lower($1)"
            );
            match c.query_opt(&sql, &[&name.trim()])? {
                Some(r) => Ok(Some((person_row(c, &r)?, r.get(5)))),
                None => Ok(None),
            }
        })
    }

    fn set_password_hash(&self, coach: &PersonId, hash: &str) -> Result<()> {
        let changed = self.unscoped(|c| {
            c.execute(
                "UPDATE people SET password_hash = $2 WHERE id = $1 AND role = 'coach'",
                &[&coach.as_str(), &hash],
            )
        })?;
        if changed == 0 {
            return Err(NotFound::Person(coach.to_string()).into());
        }
        Ok(())
    }

    fn clients(&self, coach: &PersonId) -> Result<Vec<PersonInfo>> {
        self.people_where("coach = $1", coach.as_str())
    }

    fn client_of(&self, coach: &PersonId, client: &PersonId) -> Result<PersonInfo> {
        self.unscoped(|c| {
            let sql = format!("SELECT {COLUMNS} FROM people WHERE id = $1 AND coach = $2");
            match c.query_opt(&sql, &[&client.as_str(), &coach.as_str()])? {
                Some(r) => person_row(c, &r),
                None => Err(NotFound::Person(client.to_string()).into()),
            }
        })
    }

    fn add_invite(&self, coach: &PersonId, invite: &NewInvite<'_>) -> Result<()> {
        self.unscoped(|c| {
            let is_coach = c
                .query_opt(
                    "SELECT 1 FROM people WHERE id = $1 AND role = 'coach'",
                    &[&coach.as_str()],
                )?
                .is_some();
            if !is_coach {
                return Err(NotFound::Person(coach.to_string()).into());
            }
            c.execute(
                "DELETE FROM invites WHERE expires_at <= $1",
                &[&ms(invite.created_at)],
            )?;
            c.execute(
                "INSERT INTO invites (token_hash, coach, name, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5)",
                &[
                    &invite.token_hash,
                    &coach.as_str(),
                    &invite.name,
                    &ms(invite.created_at),
                    &ms(invite.expires_at),
                ],
            )?;
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
        self.unscoped(|c| {
            // The DELETE spends the invite: of two servers opening the same
            // link at once, one deletes the row and the other finds none.
            let Some(spent) = c.query_opt(
                "DELETE FROM invites WHERE token_hash = $1 AND expires_at > $2
                 RETURNING coach, name",
                &[&token_hash, &ms(now)],
            )?
            else {
                return Ok(None);
            };
            let coach = person_of(c, spent.get(0))?;
            let name: String = spent.get::<_, Option<String>>(1).unwrap_or_default();
            c.execute(
                "INSERT INTO people (id, role, name, coach, created_at)
                 VALUES ($1, 'client', $2, $3, $4)",
                &[&client.as_str(), &name, &coach.as_str(), &ms(now)],
            )?;
            // The device is the new client's: written in their scope.
            c.query(
                "SELECT set_config('rollcoach.person', $1, true)",
                &[&client.as_str()],
            )?;
            insert_device(c, client, device)?;
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
        self.unscoped(|c| {
            c.execute(
                "DELETE FROM sign_in_failures WHERE key = $1 AND at <= $2",
                &[&key, &since],
            )?;
            c.execute(
                "INSERT INTO sign_in_failures (key, at) VALUES ($1, $2)",
                &[&key, &ms(now)],
            )?;
            let r = c.query(
                "SELECT count(*) FROM sign_in_failures WHERE key = $1 AND at > $2",
                &[&key, &since],
            )?;
            Ok(r.first().map(u32_count).unwrap_or(0))
        })
    }

    fn sign_in_failures(&self, key: &str, now: Time) -> Result<u32> {
        let since = ms(now) - SIGN_IN_WINDOW_MS as i64;
        self.unscoped(|c| {
            let r = c.query(
                "SELECT count(*) FROM sign_in_failures WHERE key = $1 AND at > $2",
                &[&key, &since],
            )?;
            Ok(r.first().map(u32_count).unwrap_or(0))
        })
    }

    fn clear_sign_in_failures(&self, key: &str) -> Result<()> {
        self.unscoped(|c| {
            c.execute("DELETE FROM sign_in_failures WHERE key = $1", &[&key])?;
            Ok(())
        })
    }
}
