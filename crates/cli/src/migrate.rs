//! `rollcoach migrate --from FILE --to postgres://...`: moves a whole
//! server's data (or one person's) from one database to another, for
//! example from the SQLite file a server started on to the PostgreSQL
//! database two servers will share.
//!
//! Lossless by construction, and checked:
//! - **People first**: every coach (with their password hash) and every
//!   client (with their coach), under the ids they have, so every record
//!   keeps its person.
//! - **Each person's records through the export document**, the path that
//!   is already lossless: their export (sessions with their snapshots,
//!   ratings and event logs; injuries) is written to a temporary file and
//!   imported into the target under the same person, with every rule of an
//!   import (each session's log is replayed before it is stored).
//! - **Their devices** by the hashes of their secrets, with when they were
//!   last let in and revoked: the phones paired with the old server are let
//!   in by the new one.
//! - **Then checked**: each person's export from the target must equal the
//!   one from the source, byte for byte, or the command fails saying whose
//!   differs.
//!
//! Running it again adds nothing (sessions and injuries are skipped by uid,
//! people and devices by id). One-time links waiting to be opened (pairing
//! links, invites) are not moved: make new ones.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

use anyhow::Context;
use rollcoach_store::{
    Corrupt, ImportRules, NewDevice, People, PersonId, PersonInfo, Records, Role, StoreError,
    SyncCatalog, TransferError,
};

use crate::db::{self, DbLocation};
use crate::transfer::count;
use crate::{Global, UsageError};

/// `rollcoach migrate` options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The database to move from: a SQLite file (a path, or `sqlite://PATH`)
    /// or `postgres://...`.
    #[arg(long, value_name = "PATH|URL")]
    from: PathBuf,
    /// The database to move to: `postgres://USER@HOST/DATABASE`, or a
    /// SQLite file (created if missing).
    #[arg(long, value_name = "PATH|URL")]
    to: PathBuf,
    /// Move only this person: `owner`, a coach's id (with their clients)
    /// or a client's id (with their coach's account), as `rollcoach coach
    /// list` shows them [default: everyone].
    #[arg(long, value_name = "ID")]
    person: Option<String>,
}

/// Runs `rollcoach migrate`.
pub fn run(args: Args, global: &Global) -> anyhow::Result<u8> {
    let from_location = DbLocation::parse(args.from.as_os_str())?;
    let to_location = DbLocation::parse(args.to.as_os_str())?;
    if let DbLocation::Sqlite(path) = &from_location
        && !path.exists()
    {
        return Err(UsageError(format!(
            "--from {}: no such file; give the database the server ran on (`rollcoach serve` \
             prints it), or a postgres:// URL",
            path.display()
        ))
        .into());
    }
    if from_location == to_location {
        return Err(UsageError(
            "--from and --to are the same database: give the database to move to".to_owned(),
        )
        .into());
    }
    let with_db = |db: &PathBuf| Global {
        db: Some(db.clone()),
        ..global.clone()
    };
    let now = db::now(global)?;
    let from = db::open_store(&with_db(&args.from)).with_context(|| {
        format!(
            "cannot open --from {}",
            db::location_shown(&with_db(&args.from))
        )
    })?;
    let people = whom(from.people(), args.person.as_deref(), from.location())?;
    let to = db::open_store(&with_db(&args.to)).with_context(|| {
        format!(
            "cannot open --to {}",
            db::location_shown(&with_db(&args.to))
        )
    })?;
    to.require_writable()?;

    // The people first: a client's coach before the client.
    let mut added = 0;
    for p in &people {
        let hash = match p.info.role {
            Role::Coach => from.people().password_hash(&p.info.id)?,
            _ => None,
        };
        match to.people().add_person(&p.info, hash.as_deref()) {
            Ok(true) => added += 1,
            Ok(false) => {}
            Err(StoreError::Conflict(e)) => {
                return Err(UsageError(format!(
                    "{}: {e}; the database moved to holds another person of this id, so nothing \
                     of theirs was moved",
                    to.location()
                ))
                .into());
            }
            Err(e) => return Err(e).context("cannot add the people"),
        }
    }

    let protocols = crate::transfer::import_protocols(global);
    let catalog = SyncCatalog::new(&protocols).context("cannot prepare the protocols")?;
    let rules = ImportRules {
        catalog: &catalog,
        now,
    };
    let mut moved = Totals::default();
    for p in people.iter().filter(|p| p.records) {
        let counts = move_person(from.records(), to.records(), &p.info, rules, now)?;
        outln!(
            "{}: {} ({} new), {} ({} new), {} ({} new).",
            who(&p.info),
            count(counts.sessions, "session", "sessions"),
            counts.sessions_new,
            count(counts.injuries, "injury", "injuries"),
            counts.injuries_new,
            count(counts.devices, "device", "devices"),
            counts.devices_new,
        );
        moved.people += 1;
        moved.sessions += counts.sessions;
    }
    outln!(
        "Moved {} ({} new here) and {} from {} to {}; each person's export there is the same, \
         byte for byte, as here. Links waiting to be opened (pairing links, invites) were not \
         moved: make new ones.",
        count(moved.people, "person", "people"),
        added,
        count(moved.sessions, "session", "sessions"),
        from.location(),
        to.location(),
    );
    Ok(crate::exit::OK)
}

/// Someone to move: their account, and whether their records move too (a
/// client moved alone brings their coach's account, not the coach's data).
struct Whom {
    info: PersonInfo,
    records: bool,
}

/// Whom to move, people before their clients: everyone, or `person`.
fn whom(people: &dyn People, person: Option<&str>, location: &str) -> anyhow::Result<Vec<Whom>> {
    let everyone = |coach: &PersonInfo| -> anyhow::Result<Vec<Whom>> {
        let mut list = vec![Whom {
            info: coach.clone(),
            records: true,
        }];
        for client in people.clients(&coach.id)? {
            list.push(Whom {
                info: client,
                records: true,
            });
        }
        Ok(list)
    };
    let Some(person) = person else {
        let mut list = vec![Whom {
            info: PersonInfo::owner(),
            records: true,
        }];
        for coach in people.coaches()? {
            list.extend(everyone(&coach)?);
        }
        return Ok(list);
    };
    let id = PersonId::parse(person).map_err(|e| UsageError(format!("--person: {e}")))?;
    let Some(info) = people.person(&id)? else {
        return Err(UsageError(format!(
            "--person {id}: {location} knows no such person; `rollcoach coach list --db ...` \
             lists the coaches (and `owner` is the server's owner)"
        ))
        .into());
    };
    match (&info.role, &info.coach) {
        (Role::Coach, _) => everyone(&info),
        (Role::Client, Some(coach)) => {
            let coach = people
                .person(coach)?
                .with_context(|| format!("{location}: the coach of {id} is missing"))?;
            Ok(vec![
                Whom {
                    info: coach,
                    records: false,
                },
                Whom {
                    info,
                    records: true,
                },
            ])
        }
        _ => Ok(vec![Whom {
            info,
            records: true,
        }]),
    }
}

fn who(p: &PersonInfo) -> String {
    match p.role {
        Role::Owner => "the owner".to_owned(),
        Role::Coach => format!("coach {} ({})", crate::term::one_line(&p.name), p.id),
        Role::Client if p.name.is_empty() => format!("client {}", p.id),
        Role::Client => format!("client {} ({})", crate::term::one_line(&p.name), p.id),
    }
}

#[derive(Default)]
struct Totals {
    people: u64,
    sessions: u64,
}

struct Moved {
    sessions: u64,
    sessions_new: u32,
    injuries: u64,
    injuries_new: u32,
    devices: u64,
    devices_new: u64,
}

/// Moves one person's records and devices, then checks the copy.
fn move_person(
    from: &dyn Records,
    to: &dyn Records,
    person: &PersonInfo,
    rules: ImportRules<'_>,
    now: rollcoach_engine::Time,
) -> anyhow::Result<Moved> {
    let id = &person.id;
    let whose = who(person);
    let total = from.session_count(id)?;
    let bar = crate::transfer::progress_bar(total, "moving", true);
    let mut original = tempfile::tempfile().context("cannot create a temporary file")?;
    let counts = rollcoach_store::write_export_json(from, id, now, &mut original, &mut |n| {
        bar.set_position(n / 2)
    })
    .with_context(|| format!("cannot read the records of {whose}"))?;
    let open = || -> std::io::Result<Box<dyn Read>> {
        let mut f = original.try_clone()?;
        f.seek(SeekFrom::Start(0))?;
        Ok(Box::new(f))
    };
    let report = rollcoach_store::import_stream(to, id, open, rules, &mut |step| {
        if let rollcoach_store::ImportStep::Written { done, .. } = step {
            bar.set_position(total / 2 + done / 2);
        }
    })
    .map_err(|e| match e {
        TransferError::Store(StoreError::Corrupt(Corrupt::Export(why))) => anyhow::anyhow!(
            "the records of {whose} do not import: {why}; nothing of theirs was moved"
        ),
        e => anyhow::Error::new(e).context(format!(
            "moving the records of {whose} failed; nothing of theirs was moved"
        )),
    })?;
    bar.finish_and_clear();

    // Their devices, by their secrets' hashes.
    let there: std::collections::HashSet<String> =
        to.devices(id)?.into_iter().map(|d| d.id).collect();
    let hashes: std::collections::HashMap<String, String> =
        from.device_secret_hashes(id)?.into_iter().collect();
    let devices = from.devices(id)?;
    let mut devices_new = 0;
    for d in &devices {
        if there.contains(&d.id) {
            continue;
        }
        let Some(hash) = hashes.get(&d.id) else {
            continue;
        };
        to.add_device(
            id,
            &NewDevice {
                id: &d.id,
                name: &d.name,
                via: &d.via,
                secret_hash: hash,
                created_at: d.created_at,
            },
        )
        .with_context(|| format!("cannot move the device {} of {whose}", d.id))?;
        if let Some(seen) = d.last_seen_at {
            to.touch_device(id, &d.id, seen)?;
        }
        if let Some(revoked) = d.revoked_at {
            to.revoke_device(id, &d.id, revoked)?;
        }
        devices_new += 1;
    }

    // The check: their export from the target is the source's.
    let mut copy = tempfile::tempfile().context("cannot create a temporary file")?;
    rollcoach_store::write_export_json(to, id, now, &mut copy, &mut |_| {})
        .with_context(|| format!("cannot read back the records of {whose}"))?;
    if !same_bytes(&mut original, &mut copy)? {
        anyhow::bail!(
            "the records of {whose} read back from the database moved to differ from the \
             original: nothing was removed from either; `rollcoach export` on each shows the \
             difference"
        );
    }
    let moved_devices = to.devices(id)?;
    if moved_devices != devices {
        anyhow::bail!(
            "the devices of {whose} in the database moved to differ from the original ({} there, \
             {} here)",
            moved_devices.len(),
            devices.len()
        );
    }
    Ok(Moved {
        sessions: counts.sessions,
        sessions_new: report.imported,
        injuries: counts.injuries,
        injuries_new: report.injuries_imported,
        devices: devices.len() as u64,
        devices_new,
    })
}

/// Whether two files hold the same bytes.
fn same_bytes(a: &mut std::fs::File, b: &mut std::fs::File) -> anyhow::Result<bool> {
    a.flush()?;
    b.flush()?;
    a.seek(SeekFrom::Start(0))?;
    b.seek(SeekFrom::Start(0))?;
    let (mut x, mut y) = (Vec::new(), Vec::new());
    let mut ra = std::io::BufReader::new(a);
    let mut rb = std::io::BufReader::new(b);
    loop {
        x.clear();
        y.clear();
        let n = (&mut ra).take(1 << 16).read_to_end(&mut x)?;
        let m = (&mut rb).take(1 << 16).read_to_end(&mut y)?;
        if x != y {
            return Ok(false);
        }
        if n == 0 && m == 0 {
            return Ok(true);
        }
    }
}
