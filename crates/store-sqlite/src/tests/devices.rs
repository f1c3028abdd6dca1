//! Devices and one-time pairing links.

use super::*;

fn new_device<'a>(id: &'a str, secret_hash: &'a str) -> NewDevice<'a> {
    NewDevice {
        id,
        name: "Chrome on Android",
        via: "pairing link from the terminal",
        secret_hash,
        created_at: T0,
    }
}

#[test]
fn a_device_is_found_by_its_secret_hash_until_it_is_revoked() {
    let store = SqliteStore::open_in_memory().unwrap();
    store.add_device(&new_device("a1", "hash-a")).unwrap();
    store.add_device(&new_device("b2", "hash-b")).unwrap();
    assert_eq!(store.device_by_secret("hash-a").unwrap().unwrap().id, "a1");
    assert_eq!(store.device_by_secret("nope").unwrap(), None);
    let later = T0.plus_ms(HOUR);
    let revoked = store.revoke_device("a1", later).unwrap().unwrap();
    assert_eq!(revoked.revoked_at, Some(later));
    assert_eq!(store.device_by_secret("hash-a").unwrap(), None);
    assert_eq!(store.device_by_secret("hash-b").unwrap().unwrap().id, "b2");
    // Revoking again keeps the first time; an unknown id is None.
    let again = store
        .revoke_device("a1", later.plus_ms(5))
        .unwrap()
        .unwrap();
    assert_eq!(again.revoked_at, Some(later));
    assert_eq!(store.revoke_device("zz", later).unwrap(), None);
    let all = store.devices().unwrap();
    assert_eq!(
        all.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(),
        ["a1", "b2"]
    );
    store.touch_device("b2", later).unwrap();
    assert_eq!(
        store
            .device_by_secret("hash-b")
            .unwrap()
            .unwrap()
            .last_seen_at,
        Some(later)
    );
}

#[test]
fn a_pairing_token_pairs_one_device_once_and_not_after_it_expires() {
    let store = SqliteStore::open_in_memory().unwrap();
    let token = |hash, expires_at| NewPairingToken {
        token_hash: hash,
        created_by: "terminal",
        created_at: T0,
        expires_at,
    };
    store
        .add_pairing_token(&token("t1", T0.plus_ms(HOUR)))
        .unwrap();
    store
        .add_pairing_token(&token("t2", T0.plus_ms(HOUR)))
        .unwrap();
    let now = T0.plus_ms(60_000);
    let paired = store
        .redeem_pairing_token("t1", now, &new_device("d1", "s1"))
        .unwrap();
    assert_eq!(paired.unwrap().id, "d1");
    // Spent: the second device is not paired, and nothing is written.
    assert_eq!(
        store
            .redeem_pairing_token("t1", now, &new_device("d2", "s2"))
            .unwrap(),
        None
    );
    assert_eq!(store.device_by_secret("s2").unwrap(), None);
    // Expired.
    assert_eq!(
        store
            .redeem_pairing_token("t2", T0.plus_ms(HOUR), &new_device("d3", "s3"))
            .unwrap(),
        None
    );
    assert_eq!(store.devices().unwrap().len(), 1);
}

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
    assert!(store.devices().unwrap().is_empty());
    store.add_device(&new_device("a1", "hash-a")).unwrap();
    drop(store);
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.device_by_secret("hash-a").unwrap().unwrap().id, "a1");
}
