//! Devices on a migrated file (their behaviour is the conformance suite's).

use super::*;

#[test]
fn a_version_4_file_migrates_to_hold_devices() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v4.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        for v in 1..=4 {
            conn.execute_batch(migration_sql(v).unwrap()).unwrap();
        }
        conn.pragma_update(None, "user_version", 4).unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.user_version().unwrap(), SCHEMA_VERSION);
    assert!(store.devices(&owner()).unwrap().is_empty());
    store
        .add_device(
            &owner(),
            &NewDevice {
                id: "a1",
                name: "Chrome on Android",
                via: "pairing link from the terminal",
                secret_hash: "hash-a",
                created_at: T0,
            },
        )
        .unwrap();
    drop(store);
    let store = SqliteStore::open(&path).unwrap();
    let device = store.device_by_secret("hash-a").unwrap().unwrap();
    assert_eq!((device.id.as_str(), &device.person), ("a1", &owner()));
}
