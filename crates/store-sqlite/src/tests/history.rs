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
        query_plan(&store, crate::history::HISTORY_POINTS_SQL, []),
        vec!["SCAN sessions USING COVERING INDEX sessions_by_start_outcome"]
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
        query_plan(&store, &sql, []),
        vec!["SCAN sessions USING COVERING INDEX sessions_history"]
    );
    // History points keep their smaller index.
    assert_eq!(
        query_plan(&store, crate::history::HISTORY_POINTS_SQL, []),
        vec!["SCAN sessions USING COVERING INDEX sessions_by_start_outcome"]
    );
}

#[test]
fn the_last_pairing_reads_only_sessions_that_have_one() {
    let store = SqliteStore::open_in_memory().unwrap();
    assert_eq!(
        query_plan(&store, crate::history::LAST_PAIRING_SQL, ["upper-back"]),
        vec!["SEARCH sessions USING INDEX sessions_with_pairing (protocol_id=?)"],
        "a live session (no pairing yet) must not be read on the way to the last pairing"
    );
    // Many live sessions newer than the last finished one do not hide it.
    let p = protocol();
    let done = completed(&store, T0, vec![], vec![]);
    let pairing = store.session(done).unwrap().pairing.unwrap();
    let facts = store.facts_for(&p).unwrap();
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
    assert_eq!(store.last_pairing(&p.id).unwrap(), Some(pairing));
}

// ----- history ------------------------------------------------------------

#[test]
fn history_is_newest_first_with_ratings_and_honours_the_limit() {
    let store = SqliteStore::open_in_memory().unwrap();
    assert!(store.history(None).unwrap().is_empty());
    let a = completed(&store, T0, vec![8], vec![5]);
    let b = completed(&store, T0.plus_ms(24 * HOUR), vec![6], vec![]);
    let c = completed(&store, T0.plus_ms(48 * HOUR), vec![], vec![]);
    let all = store.history(None).unwrap();
    assert_eq!(all.iter().map(|r| r.id).collect::<Vec<_>>(), vec![c, b, a]);
    assert_eq!(all[1].ratings[0].before, Some(6));
    assert_eq!(all[1].ratings[0].after, None);
    assert!(all[0].ratings.is_empty());
    assert_eq!(store.history(Some(2)).unwrap().len(), 2);
    assert_eq!(store.history(Some(0)).unwrap().len(), 0);
}

#[test]
fn history_pages_follow_each_other_without_gaps_or_repeats() {
    let store = SqliteStore::open_in_memory().unwrap();
    // Two sessions share a start time: the id breaks the tie.
    let mut ids = vec![completed(&store, T0, vec![], vec![])];
    for k in [50, 50, 51, 52, 53, 54] {
        ids.push(completed(
            &store,
            T0.plus_ms(k * HOUR),
            vec![k as u8 % 11],
            vec![],
        ));
    }
    assert_eq!(store.session_count().unwrap(), 7);
    let newest_first: Vec<SessionId> = store.history(None).unwrap().iter().map(|r| r.id).collect();
    let mut paged = Vec::new();
    let mut before = None;
    loop {
        let page = store.history_page(3, before).unwrap();
        assert!(page.len() <= 3);
        let Some(last) = page.last() else { break };
        before = Some(last.id);
        paged.extend(page.iter().map(|r| r.id));
    }
    assert_eq!(paged, newest_first);
    assert_eq!(paged.len(), 7);
    assert_eq!(store.history_page(3, None).unwrap().len(), 3);
    assert!(
        store.history_page(3, Some(ids[0])).unwrap().is_empty(),
        "nothing is older than the oldest"
    );
    assert!(
        store
            .history_page(3, Some(SessionId(999)))
            .unwrap()
            .is_empty(),
        "an unknown cursor gives an empty page"
    );
}

#[test]
fn rating_series_keep_the_most_recent_sessions_oldest_first() {
    let store = SqliteStore::open_in_memory().unwrap();
    for k in 0..5u64 {
        completed(
            &store,
            T0.plus_ms(50 * HOUR + k * HOUR),
            vec![k as u8],
            vec![k as u8 + 1],
        );
    }
    completed(&store, T0.plus_ms(60 * HOUR), vec![], vec![]);
    let series = rating_series(&store.history_points().unwrap(), 3);
    assert_eq!(series.len(), 1);
    let s = &series[0];
    assert_eq!(s.id, "upper-back-soreness");
    assert_eq!(s.sessions, 5, "the unrated session has no point");
    let values: Vec<_> = s.points.iter().map(|p| (p.before, p.after)).collect();
    assert_eq!(
        values,
        vec![(Some(2), Some(3)), (Some(3), Some(4)), (Some(4), Some(5))]
    );
    assert!(s.points.windows(2).all(|w| w[0].at < w[1].at));
}

#[test]
fn the_summary_counts_this_week_the_streak_and_the_average_change() {
    let store = SqliteStore::open_in_memory().unwrap();
    let tz = jiff::tz::TimeZone::fixed(jiff::tz::offset(1)); // Paris in winter
    let day = 24 * HOUR;
    // T0 is Thursday 2026-01-01, 01:00 in Paris. Sessions on Mon 29 Dec,
    // Wed 31 Dec, Thu 1 Jan (twice), and a refusal on Fri 2 Jan.
    completed(&store, Time(T0.0 - 3 * day + 10 * HOUR), vec![8], vec![4]);
    completed(&store, Time(T0.0 - day + 10 * HOUR), vec![6], vec![5]);
    completed(&store, T0.plus_ms(8 * HOUR), vec![5], vec![5]);
    completed(&store, T0.plus_ms(9 * HOUR), vec![], vec![]);
    drive(
        &store,
        T0.plus_ms(day + 10 * HOUR),
        Plan {
            refuse: true,
            ..Plan::default()
        },
    );
    let records = store.history(None).unwrap();
    let points = store.history_points().unwrap();
    assert_eq!(
        points,
        records.iter().map(HistoryPoint::from).collect::<Vec<_>>(),
        "the light read agrees with the full records"
    );

    let friday_noon = T0.plus_ms(day + 11 * HOUR);
    let s = summarize(&points, friday_noon, &tz);
    assert_eq!(
        s.sessions_this_week, 4,
        "Monday 29 Dec to now, refusal excluded"
    );
    assert_eq!(
        s.streak_days, 2,
        "Wed and Thu; Friday has only a refusal, Tuesday nothing"
    );
    assert_eq!(s.rating_changes.len(), 1);
    assert_eq!(s.rating_changes[0].id, "upper-back-soreness");
    assert_eq!(s.rating_changes[0].sessions, 3);
    assert!((s.rating_changes[0].mean_change - (-5.0 / 3.0)).abs() < 1e-9);

    // On the next Monday the week starts again and the streak is broken.
    let monday = T0.plus_ms(4 * day + 12 * HOUR);
    let s = summarize(&points, monday, &tz);
    assert_eq!((s.sessions_this_week, s.streak_days), (0, 0));
}
