//! What PostgreSQL adds to the conformance suite: migrations under their
//! lock (many servers opening one new database at once), row-level
//! security (a query that forgot its person reads nothing of anyone's),
//! errors that name the database, and two stores on one database taking
//! the same pushes at once.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use postgres::{Client, NoTls};
use rollcoach_store::{
    Accepted, Backend, Change, ChangeCursor, Conflict, NewDevice, PersonId, Records, StoreError,
    accept, new_uid,
};
use rollcoach_store_conformance::kit::{self, NOW, catalog, client, completed, owner};
use rollcoach_store_postgres::{PgRecords, SCHEMA_VERSION};
use rollcoach_testkit::{Autopilot, HOUR, T0};

fn open(url: &str) -> PgRecords {
    PgRecords::open(url).unwrap_or_else(|e| panic!("a store on {url}: {e}"))
}

fn device<'a>(id: &'a str, secret_hash: &'a str) -> NewDevice<'a> {
    NewDevice {
        id,
        name: "phone",
        via: "test",
        secret_hash,
        created_at: T0,
    }
}

/// Values of the first column `sql` gives on `client`, in a transaction
/// that first runs `setup`.
fn column(client: &mut Client, setup: &str, sql: &str) -> Vec<String> {
    let mut tx = client.transaction().expect("a transaction");
    tx.batch_execute(setup).expect("the setup");
    let rows = tx.query(sql, &[]).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let out = rows.iter().map(|r| r.get::<_, String>(0)).collect();
    tx.rollback().expect("a rollback");
    out
}

/// Sessions, injuries and devices of two people in a fresh database.
fn two_people(url: &str) -> (PgRecords, String, String) {
    let store = open(url);
    let a = completed(&store, &owner(), T0, &[5], &[3]).uid;
    let b = completed(&store, &client(), Time(T0.0 + HOUR), &[6], &[2]).uid;
    for (p, d) in [(owner(), "a"), (client(), "b")] {
        store
            .add_injury(
                &p,
                &rollcoach_store::NewInjury {
                    area: "neck".into(),
                    at: T0,
                    note: None,
                    created_at: T0,
                },
            )
            .unwrap();
        store
            .add_device(&p, &device(&format!("dev-{d}"), &format!("hash-{d}")))
            .unwrap();
        store
            .add_pairing_token(
                &p,
                &rollcoach_store::NewPairingToken {
                    token_hash: &format!("link-{d}"),
                    created_by: "test",
                    created_at: T0,
                    expires_at: Time(T0.0 + 10 * HOUR),
                },
            )
            .unwrap();
    }
    (store, a, b)
}

use rollcoach_engine::Time;

/// The person-owned tables.
const TABLES: [&str; 7] = [
    "sessions",
    "event_logs",
    "ratings",
    "injuries",
    "devices",
    "pairing_tokens",
    "changes",
];

#[test]
fn a_query_without_its_person_reads_nothing_of_anyone_s() {
    if common::skip() {
        return;
    }
    let url = common::fresh_database();
    let (_store, a, b) = two_people(&url);
    let mut app = Client::connect(&url, NoTls).expect("a connection");
    // As the store queries: the role that owns nothing.
    app.batch_execute("SET ROLE rollcoach_app").unwrap();
    let as_a = "SELECT set_config('rollcoach.person', 'owner', true)";
    let as_b = "SELECT set_config('rollcoach.person', 'client-7', true)";
    // A deliberately unscoped query, with a person set: that person's rows only.
    assert_eq!(
        column(&mut app, as_a, "SELECT uid FROM sessions"),
        [a.as_str()]
    );
    assert_eq!(
        column(&mut app, as_b, "SELECT uid FROM sessions"),
        [b.as_str()]
    );
    assert_eq!(
        column(&mut app, as_a, "SELECT DISTINCT person FROM event_logs"),
        ["owner"]
    );
    assert_eq!(column(&mut app, as_b, "SELECT id FROM devices"), ["dev-b"]);
    // With no person set, nothing of any table.
    for table in TABLES {
        let sql = format!("SELECT count(*)::text FROM {table}");
        assert_eq!(
            column(&mut app, "", &sql),
            ["0"],
            "{table} with no person set"
        );
        assert_ne!(column(&mut app, as_a, &sql), ["0"], "{table} as the owner");
    }
    // Writes outside the scope are refused or touch nothing.
    let mut tx = app.transaction().unwrap();
    tx.batch_execute(as_b).unwrap();
    assert_eq!(
        tx.execute("UPDATE injuries SET note = 'x'", &[]).unwrap(),
        1
    );
    assert_eq!(tx.execute("DELETE FROM sessions", &[]).unwrap(), 1);
    let err = tx
        .execute(
            "INSERT INTO injuries (person, uid, number, area, at, created_at)
             VALUES ('owner', 'u', 9, 'neck', 0, 0)",
            &[],
        )
        .unwrap_err();
    let why = err
        .as_db_error()
        .map(|e| e.message().to_owned())
        .unwrap_or_default();
    assert!(why.contains("row-level security"), "{err:?}");
    tx.rollback().unwrap();
    // The two lookups that find the person see the one row they name.
    assert_eq!(
        column(
            &mut app,
            "SELECT set_config('rollcoach.device_secret', 'hash-a', true)",
            "SELECT id FROM devices"
        ),
        ["dev-a"]
    );
    assert_eq!(
        column(
            &mut app,
            "SELECT set_config('rollcoach.pairing_token', 'link-b', true)",
            "SELECT token_hash FROM pairing_tokens"
        ),
        ["link-b"]
    );
}

#[test]
fn the_tables_owner_is_held_to_row_level_security_too() {
    if common::skip() {
        return;
    }
    // A store opened by an ordinary user (not a superuser), who then owns
    // the tables: FORCE ROW LEVEL SECURITY applies the policies to it.
    let mut admin = common::admin();
    let name = format!("rollcoach_owner_{}", std::process::id());
    admin
        .batch_execute(&format!(
            "DROP ROLE IF EXISTS {name}; CREATE ROLE {name} LOGIN;
             DO $$ BEGIN CREATE ROLE rollcoach_app NOLOGIN;
                EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
             GRANT rollcoach_app TO {name}"
        ))
        .unwrap();
    let db = common::fresh_database();
    let database: String = db
        .rsplit("dbname=")
        .next()
        .expect("a database name")
        .to_owned();
    admin
        .batch_execute(&format!("ALTER DATABASE \"{database}\" OWNER TO {name};"))
        .unwrap();
    let mut db_admin = Client::connect(&db, NoTls).unwrap();
    db_admin
        .batch_execute(&format!("ALTER SCHEMA public OWNER TO {name}"))
        .unwrap();
    drop(db_admin);
    let url = common::with_param(&db, "user", &name);
    let (_store, a, _b) = two_people(&url);
    let mut owner_conn = Client::connect(&url, NoTls).expect("the owner's connection");
    let owns: Vec<String> = owner_conn
        .query(
            "SELECT tableowner::text FROM pg_tables WHERE tablename = 'sessions'",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(owns, [name.as_str()]);
    assert!(column(&mut owner_conn, "", "SELECT uid FROM sessions").is_empty());
    assert_eq!(
        column(
            &mut owner_conn,
            "SELECT set_config('rollcoach.person', 'owner', true)",
            "SELECT uid FROM sessions"
        ),
        [a]
    );
}

#[test]
fn many_servers_opening_a_new_database_at_once_migrate_it_once() {
    if common::skip() {
        return;
    }
    let url = common::fresh_database();
    let stores: Vec<PgRecords> = std::thread::scope(|s| {
        let opening: Vec<_> = (0..6).map(|_| s.spawn(|| PgRecords::open(&url))).collect();
        opening
            .into_iter()
            .map(|h| h.join().expect("no panic").expect("every open succeeds"))
            .collect()
    });
    let mut db = Client::connect(&url, NoTls).unwrap();
    let versions: Vec<i32> = db
        .query(
            "SELECT version FROM schema_migrations ORDER BY version",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let all: Vec<i32> = (1..=i32::try_from(SCHEMA_VERSION).unwrap()).collect();
    assert_eq!(versions, all, "each migration applied once");
    // Each store works on the one database.
    for (i, store) in stores.iter().enumerate() {
        completed(store, &owner(), Time(T0.0 + i as u64 * HOUR), &[], &[]);
    }
    assert_eq!(stores[0].session_count(&owner()).unwrap(), 6);
}

#[test]
fn a_database_of_a_newer_rollcoach_is_refused_unchanged() {
    if common::skip() {
        return;
    }
    let url = common::fresh_database();
    drop(open(&url));
    let mut db = Client::connect(&url, NoTls).unwrap();
    db.batch_execute("INSERT INTO schema_migrations (version, name) VALUES (999, 'future')")
        .unwrap();
    let err = PgRecords::open(&url).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict(Conflict::TooNew { found: 999, .. })
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("newer rollcoach"), "{err}");
}

#[test]
fn a_server_that_cannot_be_reached_or_a_bad_url_is_an_error_naming_it() {
    if common::skip() {
        return;
    }
    let missing = tempfile::tempdir().unwrap();
    let url = format!(
        "postgres:///rollcoach?host={}&user=someone&connect_timeout=5",
        missing.path().display()
    );
    let err = PgRecords::open(&url).unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, StoreError::Backend(Backend::Failed { .. })),
        "{err:?}"
    );
    assert!(text.contains("rollcoach on"), "names the database: {text}");
    assert!(
        text.contains(&missing.path().display().to_string()),
        "names the host: {text}"
    );
    assert!(text.contains("cannot connect"), "says what failed: {text}");

    let no_db = common::url_of("rollcoach_no_such_database");
    let text = PgRecords::open(&no_db).unwrap_err().to_string();
    assert!(text.contains("rollcoach_no_such_database"), "{text}");
    assert!(text.contains("does not exist"), "{text}");

    let err = PgRecords::open("postgres://a:secret@host:notaport/db").unwrap_err();
    let text = err.to_string();
    assert!(text.contains("does not parse"), "{text}");
    assert!(
        !text.contains("secret"),
        "the password is never shown: {text}"
    );
}

#[test]
fn two_stores_on_one_database_store_each_push_once_and_lose_no_change() {
    if common::skip() {
        return;
    }
    let url = common::fresh_database();
    let servers = [Arc::new(open(&url)), Arc::new(open(&url))];
    let people = [owner(), client()];
    // Sessions run once, pushed by many phones to both servers at once.
    let sessions: Vec<(PersonId, rollcoach_store::VerifiedSession)> = (0..24u64)
        .map(|i| {
            let person = people[(i % 2) as usize].clone();
            let start = Time(T0.0 + i * HOUR);
            let run = Autopilot::start(
                kit::upper_back(),
                kit::rated(&[4], &[2]).facts(Default::default()),
                start,
            )
            .unwrap()
            .run()
            .unwrap();
            let record = kit::finished(&run, &new_uid(start));
            (person, accept(record, catalog(), NOW).unwrap())
        })
        .collect();
    let answers: Vec<Accepted> = std::thread::scope(|s| {
        let mut pushes = Vec::new();
        for phone in 0..8usize {
            let servers = &servers;
            let sessions = &sessions;
            pushes.push(s.spawn(move || {
                let mut out = Vec::new();
                // Every phone pushes every session, alternating servers.
                for (i, (person, session)) in sessions.iter().enumerate() {
                    let server = &servers[(i + phone) % 2];
                    out.push(server.accept_session(person, session).expect("a push"));
                }
                out
            }));
        }
        pushes.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let stored = answers.iter().filter(|a| **a == Accepted::Stored).count();
    assert_eq!(
        stored,
        sessions.len(),
        "each session stored once: {answers:?}"
    );
    assert!(
        answers
            .iter()
            .all(|a| matches!(a, Accepted::Stored | Accepted::Already))
    );
    for person in &people {
        let mine: BTreeSet<&str> = sessions
            .iter()
            .filter(|(p, _)| p == person)
            .map(|(_, s)| s.uid())
            .collect();
        for server in &servers {
            let pulled: Vec<String> = server
                .changes_since(person, None, 1000)
                .unwrap()
                .into_iter()
                .map(|(_, c)| match c {
                    Change::Session(s) => s.uid,
                    Change::Injury(i) => i.uid,
                })
                .collect();
            assert_eq!(pulled.len(), mine.len(), "{pulled:?}");
            assert_eq!(
                pulled.iter().map(String::as_str).collect::<BTreeSet<_>>(),
                mine
            );
        }
    }
}

#[test]
fn a_cursor_read_while_two_servers_write_skips_no_change() {
    if common::skip() {
        return;
    }
    let url = common::fresh_database();
    let servers = [Arc::new(open(&url)), Arc::new(open(&url))];
    let person = owner();
    let writers = 6usize;
    let each = 15usize;
    let pulled = std::thread::scope(|s| {
        let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        for w in 0..writers {
            let server = servers[w % 2].clone();
            let person = person.clone();
            let done = done.clone();
            s.spawn(move || {
                for i in 0..each {
                    let at = Time(T0.0 + (w * 1000 + i) as u64 * 60_000);
                    server
                        .add_injury(
                            &person,
                            &rollcoach_store::NewInjury {
                                area: "neck".into(),
                                at,
                                note: Some(format!("{w}-{i}")),
                                created_at: at,
                            },
                        )
                        .expect("an injury");
                }
                done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            });
        }
        // A phone pulling all along, from its last cursor, from either server.
        let mut cursor: Option<ChangeCursor> = None;
        let mut pulled: BTreeMap<String, u32> = BTreeMap::new();
        let mut round = 0usize;
        loop {
            let finished = done.load(std::sync::atomic::Ordering::SeqCst) == writers;
            for (next, change) in servers[round % 2]
                .changes_since(&person, cursor.as_ref(), 7)
                .unwrap()
            {
                if let Change::Injury(i) = change {
                    *pulled.entry(i.uid).or_default() += 1;
                }
                cursor = Some(next);
            }
            round += 1;
            if finished
                && servers[0]
                    .changes_since(&person, cursor.as_ref(), 1)
                    .unwrap()
                    .is_empty()
            {
                break pulled;
            }
        }
    });
    assert_eq!(pulled.len(), writers * each, "every change pulled");
    assert!(pulled.values().all(|n| *n == 1), "each once: {pulled:?}");
    let numbers: BTreeSet<u32> = servers[0]
        .list_injuries(&person)
        .unwrap()
        .iter()
        .map(|i| i.number)
        .collect();
    assert_eq!(
        numbers,
        (1..=(writers * each) as u32).collect(),
        "numbered 1..n once each"
    );
}

#[test]
fn an_unscoped_lookup_finds_only_what_its_hash_names() {
    if common::skip() {
        return;
    }
    let url = common::fresh_database();
    let (store, _, _) = two_people(&url);
    assert_eq!(
        store.device_by_secret("hash-b").unwrap().unwrap().person,
        client()
    );
    assert_eq!(store.device_by_secret("nope").unwrap(), None);
    let paired = store
        .redeem_pairing_token("link-a", Time(T0.0 + HOUR), &device("dev-a2", "hash-a2"))
        .unwrap()
        .expect("the link pairs");
    assert_eq!(paired.person, owner());
    assert_eq!(store.devices(&owner()).unwrap().len(), 2);
    assert_eq!(store.devices(&client()).unwrap().len(), 1);
    // A device id is unique across people: another person's is a conflict.
    let err = store
        .add_device(&client(), &device("dev-a", "hash-x"))
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict(Conflict::Constraint { .. })),
        "{err:?}"
    );
}

/// A database of schema version 1 with two people's sessions and injuries
/// (written as version 1 wrote them: table-wide change numbers, no
/// people) is migrated to the newest version when a server opens it, and
/// loses nothing: each person's export is what it was, byte for byte;
/// each person's change feed lists their own changes, numbered 1, 2, 3...;
/// a change written after goes on from there; and the people tables are
/// there to use.
#[test]
fn a_version_1_database_with_data_migrates_to_the_newest_and_loses_nothing() {
    use rollcoach_store::People;
    if common::skip() {
        return;
    }
    // The data, made by today's store on a database of its own.
    let source_url = common::fresh_database();
    let (source, _, _) = two_people(&source_url);
    completed(&source, &owner(), Time(T0.0 + 2 * HOUR), &[7], &[4]);
    let export = |store: &PgRecords, p: &PersonId| {
        let mut out = Vec::new();
        rollcoach_store::write_export_json(store, p, NOW, &mut out, &mut |_| {}).unwrap();
        String::from_utf8(out).unwrap()
    };
    let before: Vec<String> = [owner(), client()]
        .iter()
        .map(|p| export(&source, p))
        .collect();

    // A version 1 database: migration 0001 alone, recorded as version 1.
    let v1_url = common::fresh_database();
    let mut v1 = Client::connect(&v1_url, NoTls).unwrap();
    v1.batch_execute(include_str!("../migrations/0001_initial.sql"))
        .unwrap();
    v1.batch_execute(
        "CREATE TABLE schema_migrations (
             version    integer     PRIMARY KEY,
             name       text        NOT NULL,
             applied_at timestamptz NOT NULL DEFAULT now()
         );
         INSERT INTO schema_migrations (version, name) VALUES (1, 'initial')",
    )
    .unwrap();
    // The rows, copied over as they are (the superuser sees every
    // person's), in the order they were written: version 1's triggers
    // write its changes, numbered across everyone.
    let mut from = Client::connect(&source_url, NoTls).unwrap();
    for (table, order) in [
        ("protocol_snapshots", "id"),
        ("sessions", "id"),
        ("event_logs", "session_id"),
        ("ratings", "session_id, rating_id, moment"),
        ("injuries", "id"),
    ] {
        let rows = from
            .query(
                &format!("SELECT row_to_json(t)::text FROM {table} t ORDER BY {order}"),
                &[],
            )
            .unwrap();
        for r in rows {
            let json: String = r.get(0);
            v1.execute(
                &format!(
                    "INSERT INTO {table} SELECT * FROM json_populate_record(NULL::{table}, $1::text::json)"
                ),
                &[&json],
            )
            .unwrap_or_else(|e| panic!("{table}: {e}"));
        }
    }
    v1.batch_execute(
        "SELECT setval('protocol_snapshots_id_seq', (SELECT max(id) FROM protocol_snapshots));
         SELECT setval('sessions_id_seq', (SELECT max(id) FROM sessions));
         SELECT setval('injuries_id_seq', (SELECT max(id) FROM injuries));",
    )
    .unwrap();
    let seqs: Vec<(String, i64)> = v1
        .query("SELECT person::text, seq FROM changes ORDER BY seq", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(seqs.len(), 5, "version 1 numbered five changes: {seqs:?}");
    assert!(
        seqs.iter().any(|(p, s)| p == client().as_str() && *s > 1),
        "the client's changes came after some of the owner's: {seqs:?}"
    );
    drop(v1);

    // A server opens it: migrated to the newest.
    let store = open(&v1_url);
    let mut check = Client::connect(&v1_url, NoTls).unwrap();
    let version: i32 = check
        .query_one("SELECT max(version) FROM schema_migrations", &[])
        .unwrap()
        .get(0);
    assert_eq!(version as u32, SCHEMA_VERSION);
    for (p, was) in [owner(), client()].iter().zip(&before) {
        assert_eq!(&export(&store, p), was, "{p}'s export");
        let changes = store.changes_since(p, None, 100).unwrap();
        let numbers: Vec<String> = changes.iter().map(|(c, _)| c.to_string()).collect();
        let want: Vec<String> = (1..=changes.len())
            .map(|n| ChangeCursor::at(n as i64).to_string())
            .collect();
        assert_eq!(numbers, want, "{p}'s changes are numbered among their own");
    }
    // A change after the migration goes on from the person's last number.
    let last = store.changes_since(&client(), None, 100).unwrap().len();
    completed(&store, &client(), Time(T0.0 + 3 * HOUR), &[5], &[5]);
    let after = store.changes_since(&client(), None, 100).unwrap();
    assert_eq!(after.len(), last + 1);
    assert_eq!(after.last().unwrap().0, ChangeCursor::at(last as i64 + 1));
    // The people tables of the newer versions are there.
    let ana = store.add_coach("Ana", NOW).unwrap();
    assert_eq!(store.coaches().unwrap(), vec![ana]);
}

/// Imports on one store from several threads at once, each batch holding
/// several sessions of a snapshot no transaction has committed yet: every
/// session is stored. (A batch used to look its snapshot up twice, cache
/// the id of its own uncommitted row, and another thread's session then
/// broke the foreign key to it.)
#[test]
fn concurrent_imports_of_a_new_snapshot_store_every_session() {
    if common::skip() {
        return;
    }
    let store = Arc::new(open(&common::fresh_database()));
    let run = Autopilot::start(kit::upper_back(), kit::rated(&[5], &[3]), T0)
        .expect("a plan")
        .run()
        .expect("a run");
    let template = kit::finished(&run, "template");
    const ROUNDS: usize = 30;
    const THREADS: usize = 4;
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let (store, template) = (store.clone(), template.clone());
            s.spawn(move || {
                for round in 0..ROUNDS {
                    // A snapshot new in this round, the same for every thread.
                    let mut protocol = template.protocol.clone();
                    protocol["title"] = format!("Round {round}").into();
                    let batch: Vec<_> = (0..4)
                        .map(|i| {
                            let mut s = template.clone();
                            s.uid = format!("r{round}-s{i}");
                            s.protocol = protocol.clone();
                            s
                        })
                        .collect();
                    let person = PersonId::parse(&format!("p{t}")).unwrap();
                    let done = store
                        .import_sessions(&person, &batch)
                        .unwrap_or_else(|e| panic!("thread {t} round {round}: {e}"));
                    assert_eq!(done.added.len(), 4);
                }
            });
        }
    });
    for t in 0..THREADS {
        let person = PersonId::parse(&format!("p{t}")).unwrap();
        assert_eq!(store.session_count(&person).unwrap(), (ROUNDS * 4) as u64);
    }
}
