use super::*;

/// A writer without automatic checkpoints and a second connection to
/// checkpoint it, as a server has.
fn writer_and_checkpointer(path: &std::path::Path) -> (SqliteStore, SqliteStore) {
    let writer = SqliteStore::open(path).unwrap();
    writer.disable_auto_checkpoint().unwrap();
    (writer, SqliteStore::open(path).unwrap())
}

/// Begins a session of the built-in protocol with default options and no
/// facts, and records nothing else.
fn begin_bare(store: &SqliteStore, start: Time) -> SessionId {
    store
        .begin_session(&NewSession {
            protocol: &protocol("upper-back"),
            options: &Options::default(),
            facts: &Facts::default(),
            started_at: start,
        })
        .unwrap()
}

/// A server's writer and checkpointer: the WAL keeps growing while every
/// passive checkpoint runs during a write transaction, and restarts once the
/// writer itself checkpoints between two of them (what the server's store
/// thread does when its checkpointer asks).
#[test]
fn the_wal_restarts_once_the_writer_finishes_a_checkpoint_between_transactions() {
    let dir = tempfile::tempdir().unwrap();
    let (mut writer, checkpointer) = writer_and_checkpointer(&dir.path().join("wal.db"));
    let id = begin_bare(&writer, T0);
    let mut seq = 0u32;
    // One batch of 50 inputs, with a passive checkpoint by the other
    // connection in the middle of it, as happens under sustained load.
    let mut batch = |writer: &mut SqliteStore| {
        writer
            .batch(|s| {
                for k in 0..50 {
                    s.append_event(id, seq, u64::from(seq), &Input::Noise)
                        .unwrap();
                    seq += 1;
                    if k == 25 {
                        let (wal, copied) = checkpointer.checkpoint().unwrap();
                        assert_eq!(wal, copied, "no reader holds the WAL back");
                    }
                }
            })
            .unwrap();
    };
    // The -wal file's size: a restarted WAL is written again from its
    // beginning, so the file stops growing. (Asking SQLite with a checkpoint
    // would itself finish one between transactions.)
    let wal_file = dir.path().join("wal.db-wal");
    let wal_bytes = || std::fs::metadata(&wal_file).unwrap().len();
    let mut grown = wal_bytes();
    for _ in 0..5 {
        batch(&mut writer);
        let now = wal_bytes();
        assert!(
            now > grown,
            "passive checkpoints alone never restart the WAL: {grown} -> {now} bytes"
        );
        grown = now;
    }
    writer.checkpoint().unwrap();
    for _ in 0..3 {
        batch(&mut writer);
    }
    assert_eq!(
        wal_bytes(),
        grown,
        "after the writer's checkpoint the WAL restarts from its beginning"
    );
    assert_eq!(writer.events(id).unwrap().len(), 8 * 50, "nothing lost");
}

#[test]
fn two_stores_on_one_file_work_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db");
    // Both open (and the first migrates) at the same time.
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || SqliteStore::open(path).map(|s| s.user_version().unwrap()))
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap().unwrap(), SCHEMA_VERSION);
    }
    // A driver writes a session's log while another handle reads it.
    let writer = SqliteStore::open(&path).unwrap();
    let reader = SqliteStore::open(&path).unwrap();
    let (id, _) = drive(&writer, T0, kit::crash_at_phase(2));
    let n = writer.events(id).unwrap().len();
    assert_eq!(reader.events(id).unwrap().len(), n);
    writer
        .append_event(id, u32::try_from(n).unwrap(), 99_000, &Input::Noise)
        .unwrap();
    assert_eq!(
        reader.events(id).unwrap().len(),
        n + 1,
        "committed before append returns"
    );
    assert_eq!(reader.live_sessions().unwrap().len(), 1);
    assert!(
        recover_interrupted(&reader).unwrap().is_empty(),
        "its owner (us) is alive"
    );
}

#[test]
fn a_batch_commits_its_writes_together_and_a_failed_write_leaves_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("batch.db");
    let mut store = SqliteStore::open(&path).unwrap();
    let reader = SqliteStore::open(&path).unwrap();
    let p = protocol("upper-back");
    let new = NewSession {
        protocol: &p,
        options: &Options::default(),
        facts: &Facts::default(),
        started_at: T0,
    };
    let (a, b) = (
        store.begin_session(&new).unwrap(),
        store.begin_session(&new).unwrap(),
    );
    store.append_event(a, 0, 0, &Input::Ready).unwrap();

    let results = store
        .batch(|s| {
            let results = vec![
                s.append_event(a, 1, 10, &Input::Noise),
                s.append_event(a, 0, 20, &Input::Noise), // duplicate seq: refused alone
                s.append_event(b, 0, 30, &Input::Stop),
                s.add_injury(&owner(), &new_injury("upper-back", T0, Some("batched"), T0))
                    .map(|_| ()),
            ];
            // Nothing is visible to another connection before the commit.
            assert_eq!(reader.events(a).unwrap().len(), 1);
            assert!(reader.events(b).unwrap().is_empty());
            results
        })
        .unwrap();
    assert!(results[0].is_ok());
    assert!(matches!(
        results[1],
        Err(StoreError::Conflict(Conflict::DuplicateEvent {
            seq: 0,
            ..
        }))
    ));
    assert!(results[2].is_ok() && results[3].is_ok(), "{results:?}");

    let seqs: Vec<u32> = reader.events(a).unwrap().iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![0, 1]);
    assert_eq!(reader.events(b).unwrap().len(), 1);
    assert_eq!(reader.list_injuries(&owner()).unwrap().len(), 1);
    // Writes after the batch are their own transactions again.
    store.append_event(b, 1, 40, &Input::Noise).unwrap();
    assert_eq!(reader.events(b).unwrap().len(), 2);
}

#[test]
fn a_checkpoint_from_another_connection_empties_the_wal_of_a_store_without_auto_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let (store, checkpointer) = writer_and_checkpointer(&dir.path().join("ckpt.db"));
    let id = begin_bare(&store, T0);
    for seq in 0..50 {
        store.append_event(id, seq, 0, &Input::Noise).unwrap();
    }
    let (wal_pages, checkpointed) = checkpointer.checkpoint().unwrap();
    assert!(wal_pages > 0, "the writes went to the WAL");
    assert_eq!(wal_pages, checkpointed, "all of it copied back");
    assert_eq!(checkpointer.events(id).unwrap().len(), 50);

    let wal = dir.path().join("ckpt.db-wal");
    assert!(std::fs::metadata(&wal).unwrap().len() > 0);
    assert!(checkpointer.checkpoint_truncate().unwrap());
    assert_eq!(std::fs::metadata(&wal).unwrap().len(), 0, "WAL truncated");
    store.append_event(id, 50, 0, &Input::Noise).unwrap();
    assert_eq!(checkpointer.events(id).unwrap().len(), 51);
}

/// A transaction (SQLite's own: what a batch is, rolled back if it fails)
/// commits its writes together, and a failing one leaves nothing behind.
#[test]
fn a_transaction_commits_together_and_a_failed_one_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tx.db");
    let mut store = SqliteStore::open(&path).unwrap();
    let reader = SqliteStore::open(&path).unwrap();
    let id = begin_bare(&store, T0);
    store
        .in_transaction(|s| {
            s.append_event(id, 0, 0, &Input::Ready)?;
            s.append_event(id, 1, 10, &Input::Noise)?;
            assert!(
                reader.events(id).unwrap().is_empty(),
                "not before the commit"
            );
            Ok(())
        })
        .unwrap();
    assert_eq!(reader.events(id).unwrap().len(), 2);

    let err = store
        .in_transaction(|s| {
            s.append_event(id, 2, 20, &Input::Noise)?;
            s.append_event(id, 0, 30, &Input::Noise) // already recorded
        })
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict(Conflict::DuplicateEvent { seq: 0, .. })
        ),
        "{err:?}"
    );
    assert_eq!(
        reader.events(id).unwrap().len(),
        2,
        "event 2 was undone too"
    );
    assert_eq!(store.events(id).unwrap().len(), 2);
    // Writes after it are their own transactions again.
    store.append_event(id, 2, 40, &Input::Noise).unwrap();
    assert_eq!(reader.events(id).unwrap().len(), 3);
}

/// In memory there is one connection (another would be another database):
/// the records read on their writer, and housekeeping has nothing to do.
#[test]
fn records_in_memory_read_their_writer_and_have_no_housekeeping() {
    let records = SqliteRecords::open_in_memory().unwrap();
    records.start_housekeeping().unwrap();
    let injury = records
        .add_injury(&owner(), &new_injury("upper-back", T0, None, T0))
        .unwrap();
    assert_eq!(records.list_injuries(&owner()).unwrap(), [injury]);
    let mut store = SqliteStore::open_in_memory().unwrap();
    store.start_checkpointer().unwrap();
    assert!(!store.checkpoint_due());
    store.finish_checkpoint().unwrap();
}

/// A server's store: once the WAL passes the restart size, the checkpointer
/// asks the writer to finish a checkpoint between two transactions, and
/// after it the WAL restarts from its beginning.
#[test]
fn housekeeping_asks_the_writer_to_finish_a_checkpoint_once_the_wal_is_large() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("housekeeping.db");
    let mut store = SqliteStore::open(&path).unwrap();
    store.start_checkpointer().unwrap();
    assert!(!store.checkpoint_due());
    // About 20 MB of log: 200 injuries with 100 kB notes.
    let note = "x".repeat(100_000);
    for k in 0..200 {
        store
            .add_injury(
                &owner(),
                &new_injury("upper-back", T0.plus_ms(k), Some(&note), T0),
            )
            .unwrap();
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !store.checkpoint_due() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(store.checkpoint_due(), "the checkpointer asked");
    store.finish_checkpoint().unwrap();
    assert!(!store.checkpoint_due(), "done until it asks again");
    let wal = path.with_extension("db-wal");
    let before = std::fs::metadata(&wal).unwrap().len();
    store
        .add_injury(
            &owner(),
            &new_injury("upper-back", T0.plus_ms(1_000), None, T0),
        )
        .unwrap();
    assert_eq!(
        std::fs::metadata(&wal).unwrap().len(),
        before,
        "the next write starts the WAL again from its beginning"
    );
    assert_eq!(store.list_injuries(&owner()).unwrap().len(), 201);
}
