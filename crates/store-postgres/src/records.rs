//! [`Records`] on PostgreSQL: every call one transaction on a pooled
//! connection, scoped to its person (row-level security) and naming the
//! person in its queries as well. The answers, errors and orders are
//! SQLite's (`crates/store-sqlite`), which the conformance suite checks.

use std::collections::{HashMap, HashSet};

use postgres::Row;
use postgres::types::ToSql;
use rollcoach_engine::{Facts, RatingResult, Time};
use rollcoach_protocol::Protocol;
use rollcoach_store::codec::{from_json, pairing_id, parse_pairing, push_rating, to_json};
use rollcoach_store::rules::{self, InjuryMerge};
use rollcoach_store::{
    Accepted, Change, ChangeCursor, Conflict, Corrupt, Device, Event, ExportCursor, ExportedInjury,
    ExportedSession, HistoryPoint, HistoryRow, ImportedBatch, ImportedInjuries, Injury, NewDevice,
    NewInjury, NewPairingToken, NotFound, PersonId, Records, Result, SessionOutcome, SessionRecord,
    StoreError, VerifiedSession, exported_session, new_uid,
};
use sha2::{Digest, Sha256};

use crate::PgRecords;
use crate::pool::Conn;

/// A time as stored: milliseconds since the epoch.
pub(crate) fn ms(t: Time) -> i64 {
    i64::try_from(t.0).unwrap_or(i64::MAX)
}

/// A stored time.
pub(crate) fn time(v: i64) -> Time {
    Time(u64::try_from(v).unwrap_or(0))
}

fn u32_of(v: i64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

fn u64_of(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn limit_of(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// A uid as errors quote it.
fn quoted(uid: &str) -> String {
    uid.chars().take(128).collect()
}

/// The columns [`record_of`] reads, in order.
const SESSION_COLUMNS: &str = "id, uid, protocol_id, protocol_version, area, options_json, \
    facts_json, started_at, ended_at, outcome_json, reason, message, reps_done, reps_target, \
    active_ms, pairing, summary_json";

/// A `sessions` row as a record (its ratings added after).
fn record_of(r: &Row) -> Result<(i64, SessionRecord)> {
    let uid: String = r.get(1);
    let id = uid.as_str();
    let options_json: String = r.get(5);
    let facts_json: String = r.get(6);
    let outcome_json: Option<String> = r.get(9);
    let summary_json: Option<String> = r.get(16);
    let pairing: Option<String> = r.get(15);
    let record = SessionRecord {
        uid: uid.clone(),
        protocol_id: r.get(2),
        protocol_version: u32_of(r.get(3)),
        area: r.get(4),
        options: from_json(&options_json, id, "options")?,
        facts: from_json(&facts_json, id, "facts")?,
        started_at: time(r.get(7)),
        ended_at: r.get::<_, Option<i64>>(8).map(time),
        outcome: outcome_json
            .map(|j| from_json(&j, id, "outcome"))
            .transpose()?,
        reason: r.get(10),
        message: r.get(11),
        reps_done: r.get::<_, Option<i64>>(12).map(u32_of),
        reps_target: u32_of(r.get(13)),
        active_ms: r.get::<_, Option<i64>>(14).map(u64_of),
        pairing: pairing.as_deref().and_then(parse_pairing),
        ratings: Vec::new(),
        summary: summary_json
            .map(|j| from_json(&j, id, "summary"))
            .transpose()?,
    };
    Ok((r.get(0), record))
}

/// The ratings of these sessions, by session id, in rating id order.
fn ratings_of(c: &mut Conn, ids: &[i64]) -> Result<HashMap<i64, Vec<RatingResult>>> {
    let mut out: HashMap<i64, Vec<RatingResult>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    for r in c.query(
        "SELECT session_id, rating_id, moment = 'before', value FROM ratings
          WHERE session_id = ANY($1) ORDER BY session_id, rating_id, moment",
        &[&ids],
    )? {
        let value: i16 = r.get(3);
        push_rating(
            out.entry(r.get(0)).or_default(),
            r.get(1),
            r.get(2),
            u8::try_from(value).unwrap_or(0),
        );
    }
    Ok(out)
}

/// Sessions selected by `tail` (a WHERE/ORDER/LIMIT clause over
/// `sessions`), with their ratings, each with its row id.
fn records(
    c: &mut Conn,
    tail: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<(i64, SessionRecord)>> {
    let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions {tail}");
    let rows = c.query(&sql, params)?;
    let mut out = rows.iter().map(record_of).collect::<Result<Vec<_>>>()?;
    let ids: Vec<i64> = out.iter().map(|(id, _)| *id).collect();
    let mut ratings = ratings_of(c, &ids)?;
    for (id, r) in &mut out {
        r.ratings = ratings.remove(id).unwrap_or_default();
    }
    Ok(out)
}

/// The person's session with this uid, with its row id.
fn session_by_uid(c: &mut Conn, person: &PersonId, uid: &str) -> Result<(i64, SessionRecord)> {
    records(
        c,
        "WHERE person = $1 AND uid = $2",
        &[&person.as_str(), &uid],
    )?
    .pop()
    .ok_or_else(|| NotFound::SessionUid(quoted(uid)).into())
}

/// The row id of the person's session with this uid.
fn session_id_of(c: &mut Conn, person: &PersonId, uid: &str) -> Result<i64> {
    c.query_opt(
        "SELECT id FROM sessions WHERE person = $1 AND uid = $2",
        &[&person.as_str(), &uid],
    )?
    .map(|r| r.get(0))
    .ok_or_else(|| NotFound::SessionUid(quoted(uid)).into())
}

/// The event logs of these sessions, by session id, in order.
fn events_of(
    c: &mut Conn,
    ids: &[i64],
    names: &HashMap<i64, &str>,
) -> Result<HashMap<i64, Vec<Event>>> {
    let mut out: HashMap<i64, Vec<Event>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    for r in c.query(
        "SELECT session_id, events_json FROM event_logs WHERE session_id = ANY($1)",
        &[&ids],
    )? {
        let id: i64 = r.get(0);
        let json: &str = r.get(1);
        let log = from_json(json, names.get(&id).copied().unwrap_or("?"), "event log")?;
        out.insert(id, log);
    }
    Ok(out)
}

/// One session's event log.
fn events(c: &mut Conn, id: i64, uid: &str) -> Result<Vec<Event>> {
    let names = HashMap::from([(id, uid)]);
    Ok(events_of(c, &[id], &names)?.remove(&id).unwrap_or_default())
}

/// One session's protocol snapshot, as stored.
fn protocol_json(c: &mut Conn, id: i64, uid: &str) -> Result<String> {
    c.query_opt(
        "SELECT p.protocol_json FROM sessions s JOIN protocol_snapshots p ON p.id = s.snapshot_id
          WHERE s.id = $1",
        &[&id],
    )?
    .map(|r| r.get(0))
    .ok_or_else(|| NotFound::SessionUid(quoted(uid)).into())
}

/// The columns [`injury_of`] reads.
const INJURY_COLUMNS: &str = "uid, area, at, note, created_at, cleared_at, number";

fn injury_of(r: &Row) -> Injury {
    Injury {
        number: u32_of(r.get(6)),
        uid: r.get(0),
        area: r.get(1),
        at: time(r.get(2)),
        note: r.get(3),
        created_at: time(r.get(4)),
        cleared_at: r.get::<_, Option<i64>>(5).map(time),
    }
}

fn injuries_where(c: &mut Conn, tail: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Injury>> {
    let sql = format!("SELECT {INJURY_COLUMNS} FROM injuries {tail}");
    Ok(c.query(&sql, params)?.iter().map(injury_of).collect())
}

fn injury(c: &mut Conn, person: &PersonId, uid: &str) -> Result<Injury> {
    injuries_where(
        c,
        "WHERE person = $1 AND uid = $2",
        &[&person.as_str(), &uid],
    )?
    .pop()
    .ok_or_else(|| NotFound::InjuryUid(quoted(uid)).into())
}

/// Takes the person's lock (to the end of the transaction): what numbers
/// their injuries and changes, so two servers never give one number twice.
fn lock_person(c: &mut Conn, person: &PersonId) -> Result<()> {
    c.query(
        "SELECT pg_advisory_xact_lock(1919, hashtext($1))",
        &[&person.as_str()],
    )?;
    Ok(())
}

/// Adds an injury of the person (the person's lock held: its number is the
/// next of theirs).
fn insert_injury(c: &mut Conn, person: &PersonId, i: &ExportedInjury) -> Result<()> {
    c.execute(
        "INSERT INTO injuries (uid, area, at, note, created_at, cleared_at, person, number)
         VALUES ($1, $2, $3, $4, $5, $6, $7,
             (SELECT coalesce(max(number), 0) + 1 FROM injuries WHERE person = $7))",
        &[
            &i.uid,
            &i.area,
            &ms(i.at),
            &i.note,
            &ms(i.created_at),
            &i.cleared_at.map(ms),
            &person.as_str(),
        ],
    )?;
    Ok(())
}

const DEVICE_COLUMNS: &str = "id, name, via, created_at, last_seen_at, revoked_at, person";

fn device_of(c: &Conn, r: &Row) -> Result<Device> {
    let person: &str = r.get(6);
    Ok(Device {
        id: r.get(0),
        name: r.get(1),
        via: r.get(2),
        created_at: time(r.get(3)),
        last_seen_at: r.get::<_, Option<i64>>(4).map(time),
        revoked_at: r.get::<_, Option<i64>>(5).map(time),
        person: person_of(c, person)?,
    })
}

pub(crate) fn person_of(c: &Conn, text: &str) -> Result<PersonId> {
    PersonId::parse(text).map_err(|e| {
        Corrupt::Damaged {
            location: c.location().to_owned(),
            source: format!("a stored person id does not parse: {e}").into(),
        }
        .into()
    })
}

pub(crate) fn insert_device(c: &mut Conn, person: &PersonId, new: &NewDevice<'_>) -> Result<()> {
    c.execute(
        "INSERT INTO devices (id, name, via, secret_hash, created_at, person)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &new.id,
            &new.name,
            &new.via,
            &new.secret_hash,
            &ms(new.created_at),
            &person.as_str(),
        ],
    )?;
    Ok(())
}

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

impl PgRecords {
    /// The id of the shared snapshot row holding `protocol_json` (by its
    /// SHA-256), added if it is new. Call it at
    /// most once per snapshot in a transaction (see `import_sessions`): the
    /// id it caches must be of a row other transactions can see, and a
    /// second call would find this transaction's own uncommitted row.
    fn snapshot_id(&self, c: &mut Conn, protocol_json: &str) -> Result<i64> {
        let hash: [u8; 32] = Sha256::digest(protocol_json.as_bytes()).into();
        let cached = self
            .snapshots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&hash)
            .copied();
        if let Some(id) = cached {
            return Ok(id);
        }
        let h: &[u8] = &hash;
        if let Some(r) = c.query_opt(
            "INSERT INTO protocol_snapshots (hash, protocol_json) VALUES ($1, $2)
             ON CONFLICT (hash) DO NOTHING RETURNING id",
            &[&h, &protocol_json],
        )? {
            // Not cached: this transaction may yet roll back.
            return Ok(r.get(0));
        }
        let id: i64 = c
            .query_opt("SELECT id FROM protocol_snapshots WHERE hash = $1", &[&h])?
            .map(|r| r.get(0))
            .ok_or_else(|| {
                StoreError::from(Corrupt::Damaged {
                    location: c.location().to_owned(),
                    source: "a protocol snapshot that was there is gone".into(),
                })
            })?;
        self.snapshots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(hash, id);
        Ok(id)
    }

    /// Adds one session (its ratings and event log with it), whose
    /// protocol snapshot is the row `snapshot` ([`PgRecords::snapshot_id`]);
    /// `None` if the person has its uid already.
    ///
    /// A transaction finds every snapshot it needs before it adds a
    /// session: adding one takes the person's lock (the change trigger),
    /// and a transaction that held it while waiting on a snapshot another
    /// one is adding, which then waits for that lock, would deadlock.
    fn insert_session(
        &self,
        c: &mut Conn,
        person: &PersonId,
        s: &ExportedSession,
        snapshot: i64,
    ) -> Result<Option<i64>> {
        // `ExportDocument::check` refuses a log with an event twice; this
        // keeps the message if one gets here.
        let mut seen = HashSet::with_capacity(s.events.len());
        if let Some(e) = s.events.iter().find(|e| !seen.insert(e.seq)) {
            return Err(Corrupt::Export(format!(
                "session {}: event {} appears twice in its log",
                s.uid, e.seq
            ))
            .into());
        }
        let (mut rating_ids, mut moments, mut values) = (Vec::new(), Vec::new(), Vec::new());
        // As SQLite's INSERT OR REPLACE: a rating given twice keeps its last value.
        let mut at: HashMap<(&str, &str), usize> = HashMap::new();
        for r in &s.ratings {
            for (moment, value) in [("before", r.before), ("after", r.after)] {
                let Some(v) = value else { continue };
                match at.get(&(r.id.as_str(), moment)) {
                    Some(&i) => values[i] = i16::from(v),
                    None => {
                        at.insert((r.id.as_str(), moment), values.len());
                        rating_ids.push(r.id.as_str());
                        moments.push(moment);
                        values.push(i16::from(v));
                    }
                }
            }
        }
        let mut log: Vec<&Event> = s.events.iter().collect();
        log.sort_by_key(|e| e.seq);
        // One statement, so one round trip: the session, then (only if it
        // was added) its ratings and its log. Foreign keys are checked at
        // the statement's end.
        let inserted = c.query_opt(
            "WITH s AS (
                 INSERT INTO sessions (uid, protocol_id, protocol_version, snapshot_id, area,
                     options_json, facts_json, started_at, ended_at, outcome, reason, outcome_json,
                     message, reps_done, reps_target, active_ms, pairing, summary_json, person)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                     $17, $18, $19)
                 ON CONFLICT (person, uid) DO NOTHING RETURNING id
             ), r AS (
                 INSERT INTO ratings (session_id, person, rating_id, moment, value)
                 SELECT s.id, $19, t.r, t.m, t.v
                   FROM s, unnest($20::text[], $21::text[], $22::smallint[]) AS t(r, m, v)
             ), e AS (
                 INSERT INTO event_logs (session_id, person, events_json)
                 SELECT s.id, $19, $23 FROM s
             )
             SELECT id FROM s",
            &[
                &s.uid,
                &s.protocol_id,
                &i64::from(s.protocol_version),
                &snapshot,
                &s.area,
                &to_json(&s.options),
                &to_json(&s.facts),
                &ms(s.started_at),
                &s.ended_at.map(ms),
                &s.outcome.as_ref().map(SessionOutcome::kind),
                &s.reason,
                &s.outcome.as_ref().map(to_json),
                &s.message,
                &s.reps_done.map(i64::from),
                &i64::from(s.reps_target),
                &s.active_ms.map(|v| i64::try_from(v).unwrap_or(i64::MAX)),
                &s.pairing.map(pairing_id),
                &s.summary.as_ref().map(to_json),
                &person.as_str(),
                &rating_ids,
                &moments,
                &values,
                &to_json(&log),
            ],
        )?;
        let Some(row) = inserted else {
            return Ok(None);
        };
        let id: i64 = row.get(0);
        Ok(Some(id))
    }
}

impl Records for PgRecords {
    fn session(&self, person: &PersonId, uid: &str) -> Result<SessionRecord> {
        self.pool
            .scoped(person, |c| Ok(session_by_uid(c, person, uid)?.1))
    }

    fn events(&self, person: &PersonId, uid: &str) -> Result<Vec<Event>> {
        self.pool.scoped(person, |c| {
            let id = session_id_of(c, person, uid)?;
            events(c, id, uid)
        })
    }

    fn protocol_json(&self, person: &PersonId, uid: &str) -> Result<String> {
        self.pool.scoped(person, |c| {
            let id = session_id_of(c, person, uid)?;
            protocol_json(c, id, uid)
        })
    }

    fn history_page(
        &self,
        person: &PersonId,
        limit: usize,
        before: Option<&str>,
    ) -> Result<Vec<SessionRecord>> {
        let limit = limit_of(limit);
        let p = person.as_str();
        self.pool.scoped(person, |c| {
            let found = match before {
                None => records(
                    c,
                    "WHERE person = $1 ORDER BY started_at DESC, id DESC LIMIT $2",
                    &[&p, &limit],
                )?,
                Some(before) => {
                    let before = session_id_of(c, person, before)?;
                    records(
                        c,
                        "WHERE person = $1
                           AND (started_at, id) < (SELECT started_at, id FROM sessions WHERE id = $3)
                         ORDER BY started_at DESC, id DESC LIMIT $2",
                        &[&p, &limit, &before],
                    )?
                }
            };
            Ok(found.into_iter().map(|(_, r)| r).collect())
        })
    }

    fn history_rows(
        &self,
        person: &PersonId,
        limit: usize,
        before: Option<&str>,
    ) -> Result<Vec<HistoryRow>> {
        let limit = limit_of(limit);
        let p = person.as_str();
        self.pool.scoped(person, |c| {
            const COLUMNS: &str = "SELECT id, uid, protocol_id, started_at, ended_at, outcome, \
                reason, reps_done, reps_target FROM sessions WHERE person = $1";
            let rows = match before {
                None => c.query(
                    &format!("{COLUMNS} ORDER BY started_at DESC, id DESC LIMIT $2"),
                    &[&p, &limit],
                )?,
                Some(before) => {
                    let before = session_id_of(c, person, before)?;
                    c.query(
                        &format!(
                            "{COLUMNS} AND (started_at, id) < \
                             (SELECT started_at, id FROM sessions WHERE id = $3)
                             ORDER BY started_at DESC, id DESC LIMIT $2"
                        ),
                        &[&p, &limit, &before],
                    )?
                }
            };
            let ids: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
            let mut ratings = ratings_of(c, &ids)?;
            Ok(rows
                .iter()
                .map(|r| {
                    let started: i64 = r.get(3);
                    let ended: Option<i64> = r.get(4);
                    HistoryRow {
                        uid: r.get(1),
                        protocol_id: r.get(2),
                        started_at: time(started),
                        duration_ms: ended.map(|e| u64_of(e - started)),
                        outcome: r.get(5),
                        reason: r.get(6),
                        reps_done: r.get::<_, Option<i64>>(7).map(u32_of),
                        reps_target: u32_of(r.get(8)),
                        ratings: ratings.remove(&r.get::<_, i64>(0)).unwrap_or_default(),
                    }
                })
                .collect())
        })
    }

    fn session_count(&self, person: &PersonId) -> Result<u64> {
        self.pool.scoped(person, |c| {
            Ok(c.query_opt(
                "SELECT count(*) FROM sessions WHERE person = $1",
                &[&person.as_str()],
            )?
            .map_or(0, |r| u64_of(r.get(0))))
        })
    }

    fn history_points(&self, person: &PersonId) -> Result<Vec<HistoryPoint>> {
        let p = person.as_str();
        self.pool.scoped(person, |c| {
            let rows = c.query(
                "SELECT id, started_at, outcome IS NULL OR outcome <> 'refused' FROM sessions
                  WHERE person = $1 ORDER BY started_at DESC, id DESC",
                &[&p],
            )?;
            let mut at: HashMap<i64, usize> = HashMap::with_capacity(rows.len());
            let mut points = Vec::with_capacity(rows.len());
            for (i, r) in rows.iter().enumerate() {
                at.insert(r.get(0), i);
                points.push(HistoryPoint {
                    started_at: time(r.get(1)),
                    counts: r.get(2),
                    ratings: Vec::new(),
                });
            }
            for r in c.query(
                "SELECT session_id, rating_id, moment = 'before', value FROM ratings
                  WHERE person = $1 ORDER BY session_id, rating_id, moment",
                &[&p],
            )? {
                let Some(point) = at.get(&r.get::<_, i64>(0)).and_then(|&i| points.get_mut(i))
                else {
                    continue;
                };
                let value: i16 = r.get(3);
                push_rating(
                    &mut point.ratings,
                    r.get(1),
                    r.get(2),
                    u8::try_from(value).unwrap_or(0),
                );
            }
            Ok(points)
        })
    }

    fn facts_for(&self, person: &PersonId, protocol: &Protocol) -> Result<Facts> {
        let p = person.as_str();
        self.pool.scoped(person, |c| {
            let open = injuries_where(
                c,
                "WHERE person = $1 AND area = $2 AND cleared_at IS NULL ORDER BY at, id",
                &[&p, &protocol.area],
            )?;
            let pairing: Option<String> = c
                .query_opt(
                    "SELECT pairing FROM sessions
                      WHERE person = $1 AND protocol_id = $2 AND pairing IS NOT NULL
                      ORDER BY started_at DESC, id DESC LIMIT 1",
                    &[&p, &protocol.id],
                )?
                .map(|r| r.get(0));
            Ok(rules::facts(
                &protocol.area,
                &open,
                pairing.as_deref().and_then(parse_pairing),
            ))
        })
    }

    fn add_injury(&self, person: &PersonId, new: &NewInjury) -> Result<Injury> {
        let uid = new_uid(new.created_at);
        self.pool.scoped(person, |c| {
            lock_person(c, person)?;
            insert_injury(
                c,
                person,
                &ExportedInjury {
                    uid: uid.clone(),
                    area: new.area.clone(),
                    at: new.at,
                    note: new.note.clone(),
                    created_at: new.created_at,
                    cleared_at: None,
                },
            )?;
            injury(c, person, &uid)
        })
    }

    fn list_injuries(&self, person: &PersonId) -> Result<Vec<Injury>> {
        self.pool.scoped(person, |c| {
            injuries_where(c, "WHERE person = $1 ORDER BY at, id", &[&person.as_str()])
        })
    }

    fn clear_injury(&self, person: &PersonId, uid: &str, now: Time) -> Result<Injury> {
        self.pool.scoped(person, |c| {
            let n = c.execute(
                "UPDATE injuries SET cleared_at = $3
                  WHERE person = $1 AND uid = $2 AND cleared_at IS NULL",
                &[&person.as_str(), &uid, &ms(now)],
            )?;
            let injury = injury(c, person, uid)?;
            if n == 0 {
                return Err(Conflict::InjuryAlreadyCleared {
                    uid: injury.uid.clone(),
                    cleared_at: injury.cleared_at.unwrap_or_default().into(),
                }
                .into());
            }
            Ok(injury)
        })
    }

    fn export_sessions(
        &self,
        person: &PersonId,
        after: Option<&ExportCursor>,
        limit: usize,
    ) -> Result<Vec<(ExportCursor, ExportedSession)>> {
        let limit = limit_of(limit);
        let p = person.as_str();
        self.pool.scoped(person, |c| {
            let found = match after {
                None => records(
                    c,
                    "WHERE person = $1 ORDER BY started_at, id LIMIT $2",
                    &[&p, &limit],
                )?,
                Some(a) => records(
                    c,
                    "WHERE person = $1 AND (started_at, id) > ($3, $4)
                     ORDER BY started_at, id LIMIT $2",
                    &[&p, &limit, &ms(a.started_at), &a.key],
                )?,
            };
            let ids: Vec<i64> = found.iter().map(|(id, _)| *id).collect();
            let names: HashMap<i64, &str> =
                found.iter().map(|(id, r)| (*id, r.uid.as_str())).collect();
            let mut snapshots: HashMap<i64, String> = c
                .query(
                    "SELECT s.id, p.protocol_json FROM sessions s
                       JOIN protocol_snapshots p ON p.id = s.snapshot_id
                      WHERE s.id = ANY($1)",
                    &[&ids],
                )?
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect();
            let mut logs = events_of(c, &ids, &names)?;
            let mut out = Vec::with_capacity(found.len());
            for (id, r) in found {
                let cursor = ExportCursor {
                    started_at: r.started_at,
                    key: id,
                };
                let protocol = snapshots.remove(&id).unwrap_or_default();
                let events = logs.remove(&id).unwrap_or_default();
                out.push((cursor, exported_session(r, &protocol, events)?));
            }
            Ok(out)
        })
    }

    fn rating_ids(&self, person: &PersonId) -> Result<Vec<String>> {
        self.pool.scoped(person, |c| {
            Ok(c.query(
                "SELECT DISTINCT rating_id FROM ratings WHERE person = $1 ORDER BY rating_id",
                &[&person.as_str()],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect())
        })
    }

    fn import_sessions(
        &self,
        person: &PersonId,
        sessions: &[ExportedSession],
    ) -> Result<ImportedBatch> {
        self.pool.scoped(person, |c| {
            let mut batch = ImportedBatch::default();
            // Each distinct snapshot once per transaction: a second lookup
            // would find this transaction's own uncommitted row and cache
            // its id for other transactions, which cannot see it yet (and
            // never will, if this one rolls back).
            let mut ids: HashMap<String, i64> = HashMap::new();
            let mut snapshots = Vec::with_capacity(sessions.len());
            for s in sessions {
                let json = to_json(&s.protocol);
                let id = match ids.get(&json) {
                    Some(&id) => id,
                    None => {
                        let id = self.snapshot_id(c, &json)?;
                        ids.insert(json, id);
                        id
                    }
                };
                snapshots.push(id);
            }
            for (s, snapshot) in sessions.iter().zip(snapshots) {
                match self.insert_session(c, person, s, snapshot)? {
                    Some(_) => batch.added.push(s.uid.clone()),
                    None => batch.skipped.push(s.uid.clone()),
                }
            }
            Ok(batch)
        })
    }

    fn import_injuries(
        &self,
        person: &PersonId,
        injuries: &[ExportedInjury],
    ) -> Result<ImportedInjuries> {
        self.pool.scoped(person, |c| {
            lock_person(c, person)?;
            let mut out = ImportedInjuries::default();
            for i in injuries {
                let stored = injuries_where(
                    c,
                    "WHERE person = $1 AND uid = $2",
                    &[&person.as_str(), &i.uid],
                )?
                .pop();
                match rules::merge_injury(stored.as_ref(), i).map_err(|e| e.into_error(&i.uid))? {
                    InjuryMerge::Add => {
                        insert_injury(c, person, i)?;
                        out.added.push(i.uid.clone());
                    }
                    InjuryMerge::Clear { cleared_at } => {
                        c.execute(
                            "UPDATE injuries SET cleared_at = $3
                              WHERE person = $1 AND uid = $2 AND cleared_at IS NULL",
                            &[&person.as_str(), &i.uid, &ms(cleared_at)],
                        )?;
                        out.cleared += 1;
                    }
                    InjuryMerge::Same => out.skipped += 1,
                }
            }
            Ok(out)
        })
    }

    fn remove_imported(
        &self,
        person: &PersonId,
        sessions: &[String],
        injuries: &[String],
    ) -> Result<()> {
        self.pool.scoped(person, |c| {
            let p = person.as_str();
            if !sessions.is_empty() {
                c.execute(
                    "DELETE FROM sessions WHERE person = $1 AND uid = ANY($2)",
                    &[&p, &sessions],
                )?;
            }
            if !injuries.is_empty() {
                c.execute(
                    "DELETE FROM injuries WHERE person = $1 AND uid = ANY($2)",
                    &[&p, &injuries],
                )?;
            }
            Ok(())
        })
    }

    fn accept_session(&self, person: &PersonId, session: &VerifiedSession) -> Result<Accepted> {
        self.pool.scoped(person, |c| {
            let snapshot = self.snapshot_id(c, &to_json(&session.record().protocol))?;
            if self
                .insert_session(c, person, session.record(), snapshot)?
                .is_some()
            {
                return Ok(Accepted::Stored);
            }
            // Under this uid already (committed: an insert of the same uid
            // by another transaction waits for it): the same session, or
            // another one.
            let (id, stored) = session_by_uid(c, person, session.uid())?;
            let events = events(c, id, session.uid())?;
            let protocol = protocol_json(c, id, session.uid())?;
            Ok(if session.is_stored_as(&stored, &events, &protocol) {
                Accepted::Already
            } else {
                Accepted::Differs
            })
        })
    }

    fn changes_since(
        &self,
        person: &PersonId,
        since: Option<&ChangeCursor>,
        limit: usize,
    ) -> Result<Vec<(ChangeCursor, Change)>> {
        let p = person.as_str();
        self.pool.scoped(person, |c| {
            let rows = c.query(
                "SELECT number, kind, uid FROM changes WHERE person = $1 AND number > $2
                  ORDER BY number LIMIT $3",
                &[
                    &p,
                    &since.map_or(0, ChangeCursor::position),
                    &limit_of(limit),
                ],
            )?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                let (seq, kind, uid): (i64, &str, &str) = (r.get(0), r.get(1), r.get(2));
                let change = if kind == "session" {
                    session_by_uid(c, person, uid).map(|(_, s)| Change::Session(s))
                } else {
                    injury(c, person, uid).map(Change::Injury)
                };
                match change {
                    Ok(change) => out.push((ChangeCursor::at(seq), change)),
                    // Removed since (an undone import): nothing to pull.
                    Err(StoreError::NotFound(NotFound::SessionUid(_) | NotFound::InjuryUid(_))) => {
                    }
                    Err(e) => return Err(e),
                }
            }
            Ok(out)
        })
    }

    fn add_device(&self, person: &PersonId, new: &NewDevice<'_>) -> Result<Device> {
        self.pool
            .scoped(person, |c| insert_device(c, person, new))?;
        Ok(new_device(person.clone(), new))
    }

    fn device_by_secret(&self, secret_hash: &str) -> Result<Option<Device>> {
        self.pool.with(|c| {
            c.transaction(&[("rollcoach.device_secret", secret_hash)], |c| {
                let sql = format!(
                    "SELECT {DEVICE_COLUMNS} FROM devices
                      WHERE secret_hash = $1 AND revoked_at IS NULL"
                );
                match c.query_opt(&sql, &[&secret_hash])? {
                    Some(r) => device_of(c, &r).map(Some),
                    None => Ok(None),
                }
            })
        })
    }

    fn devices(&self, person: &PersonId) -> Result<Vec<Device>> {
        self.pool.scoped(person, |c| {
            let sql = format!(
                "SELECT {DEVICE_COLUMNS} FROM devices WHERE person = $1 ORDER BY created_at, id"
            );
            let rows = c.query(&sql, &[&person.as_str()])?;
            rows.iter().map(|r| device_of(c, r)).collect()
        })
    }

    fn device_secret_hashes(&self, person: &PersonId) -> Result<Vec<(String, String)>> {
        self.pool.scoped(person, |c| {
            let rows = c.query(
                "SELECT id, secret_hash FROM devices WHERE person = $1 ORDER BY created_at, id",
                &[&person.as_str()],
            )?;
            Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
        })
    }

    fn revoke_device(&self, person: &PersonId, id: &str, now: Time) -> Result<Option<Device>> {
        self.pool.scoped(person, |c| {
            c.execute(
                "UPDATE devices SET revoked_at = $3
                  WHERE person = $1 AND id = $2 AND revoked_at IS NULL",
                &[&person.as_str(), &id, &ms(now)],
            )?;
            let sql = format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE person = $1 AND id = $2");
            match c.query_opt(&sql, &[&person.as_str(), &id])? {
                Some(r) => device_of(c, &r).map(Some),
                None => Ok(None),
            }
        })
    }

    fn touch_device(&self, person: &PersonId, id: &str, now: Time) -> Result<()> {
        self.pool.scoped(person, |c| {
            c.execute(
                "UPDATE devices SET last_seen_at = $3 WHERE person = $1 AND id = $2",
                &[&person.as_str(), &id, &ms(now)],
            )?;
            Ok(())
        })
    }

    fn add_pairing_token(&self, person: &PersonId, token: &NewPairingToken<'_>) -> Result<()> {
        self.pool.scoped(person, |c| {
            // The person's own expired links (row-level security shows no
            // one else's; another person's go when they add one).
            c.execute(
                "DELETE FROM pairing_tokens WHERE person = $1 AND expires_at <= $2",
                &[&person.as_str(), &ms(token.created_at)],
            )?;
            c.execute(
                "INSERT INTO pairing_tokens (token_hash, created_by, created_at, expires_at, person)
                 VALUES ($1, $2, $3, $4, $5)",
                &[
                    &token.token_hash,
                    &token.created_by,
                    &ms(token.created_at),
                    &ms(token.expires_at),
                    &person.as_str(),
                ],
            )?;
            Ok(())
        })
    }

    fn redeem_pairing_token(
        &self,
        token_hash: &str,
        now: Time,
        device: &NewDevice<'_>,
    ) -> Result<Option<Device>> {
        self.pool.with(|c| {
            c.transaction(&[("rollcoach.pairing_token", token_hash)], |c| {
                let Some(row) = c.query_opt(
                    "DELETE FROM pairing_tokens WHERE token_hash = $1 AND expires_at > $2
                     RETURNING person",
                    &[&token_hash, &ms(now)],
                )?
                else {
                    return Ok(None);
                };
                let person = person_of(c, row.get(0))?;
                // The device is the link's person's: written in their scope.
                c.query(
                    "SELECT set_config('rollcoach.person', $1, true)",
                    &[&person.as_str()],
                )?;
                insert_device(c, &person, device)?;
                Ok(Some(new_device(person, device)))
            })
        })
    }
}
