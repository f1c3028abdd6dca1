//! The history's queries read their indexes (person first, schema 7).

use super::*;

/// SQLite's plan for `sql`, one line per step.
fn query_plan(store: &SqliteStore, sql: &str, params: impl rusqlite::Params) -> Vec<String> {
    store
        .conn
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .unwrap()
        .query_map(params, |r| r.get::<_, String>(3))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn history_points_read_an_index_and_no_session_row() {
    let store = SqliteStore::open_in_memory().unwrap();
    assert_eq!(
        query_plan(&store, crate::history::HISTORY_POINTS_SQL, ["owner"]),
        vec!["SEARCH sessions USING COVERING INDEX sessions_by_start_outcome (person=?)"]
    );
}

#[test]
fn history_rows_read_an_index_and_no_session_row() {
    let store = SqliteStore::open_in_memory().unwrap();
    let sql = format!(
        "{} ORDER BY started_at DESC, id DESC LIMIT 500",
        crate::history::HISTORY_ROWS_SQL
    );
    assert_eq!(
        query_plan(&store, &sql, ["owner"]),
        vec!["SEARCH sessions USING COVERING INDEX sessions_history (person=?)"]
    );
    // History points keep their smaller index.
    assert_eq!(
        query_plan(&store, crate::history::HISTORY_POINTS_SQL, ["owner"]),
        vec!["SEARCH sessions USING COVERING INDEX sessions_by_start_outcome (person=?)"]
    );
}

#[test]
fn the_last_pairing_reads_only_sessions_that_have_one() {
    let store = SqliteStore::open_in_memory().unwrap();
    assert_eq!(
        query_plan(
            &store,
            crate::history::LAST_PAIRING_SQL,
            ["owner", "upper-back"]
        ),
        vec!["SEARCH sessions USING INDEX sessions_with_pairing (person=? AND protocol_id=?)"],
        "a live session (no pairing yet) must not be read on the way to the last pairing"
    );
    // Many live sessions newer than the last finished one do not hide it.
    let p = protocol("upper-back");
    let done = completed(&store, T0, &[], &[]);
    let pairing = SessionLog::session(&store, done).unwrap().pairing.unwrap();
    let facts = SessionLog::facts_for(&store, &p).unwrap();
    for k in 1..=50 {
        store
            .begin_session(&NewSession {
                protocol: &p,
                options: &Options::default(),
                facts: &facts,
                started_at: T0.plus_ms(k * HOUR),
            })
            .unwrap();
    }
    assert_eq!(store.last_pairing(&owner(), &p.id).unwrap(), Some(pairing));
}
