//! The store's conformance suite: the properties every rollcoach backend
//! keeps, written once against the backend-neutral traits of
//! `rollcoach-store`, and run by each backend's tests with a constructor.
//!
//! - [`records_suite!`] holds a [`Records`] store to its properties: export,
//!   import, export is the identity (sessions of every outcome, injuries
//!   cleared and not, twins logged in the same millisecond); injury
//!   identity (merge by uid, a clear only moves forward, a differing twin is
//!   refused naming the field); an idempotent push (`accept`, then
//!   `accept_session` twice stores once); history paging by uid; what is
//!   recorded at the end; changes since a cursor; devices and pairing
//!   links; and scoping: two people in one store never see each other's
//!   records, even under the same uids. A backend needs only a constructor of a fresh, empty store:
//!
//!   ```ignore
//!   mod in_memory {
//!       rollcoach_store_conformance::records_suite!(|| std::sync::Arc::new(
//!           rollcoach_store_sqlite::SqliteRecords::open_in_memory().unwrap()
//!       ));
//!   }
//!   ```
//!
//! - [`log_suite!`] holds a backend with a [`SessionLog`] (the terminal's
//!   local log) to the properties that need one: the event log is
//!   append-only, what is recorded at the start and the end, crash recovery
//!   (a log cut at any point recovers as interrupted with the reps it
//!   proves, once; a log that reached the end records the engine's end),
//!   and export, import, export over random sessions. Its constructor gives
//!   a [`LogBackend`]: the log and the records over the same data (an
//!   `Arc` of a type that is both converts with `From`).
//!
//! - [`people_suite!`] holds a [`People`] store to its properties: coach
//!   names unique whatever their case, the owner known without a row, an
//!   invite that lets one client in once and not after it expires, another
//!   coach's client not found, failed sign-ins counted in their window and
//!   cleared. Its constructor gives a [`PeopleBackend`].
//!
//! Each macro expands to one `#[test]` per property, named by the property
//! as a sentence; put each use in a module of its own (in memory, on a
//! file, ...). Sessions are driven by the test kit's autopilot through the
//! engine's runner: into the log batch by batch before each is applied, as
//! a terminal does, or into the records as a pushed session
//! ([`rollcoach_store::ExportedSession::finished`] of the run, verified by
//! [`rollcoach_store::accept`]), as the server does.
//!
//! A failing property panics with what differs; no property reads a clock
//! or sleeps.
#![deny(missing_docs)]

use std::sync::Arc;

pub use rollcoach_store::{People, Records, SessionLog};

pub mod kit;
pub mod log;
pub mod people;
pub mod records;

/// A backend that keeps people: the [`People`] and the [`Records`] over
/// the same data (an invite records its client's device in the records).
/// An `Arc` of a type that is both converts with `From`.
#[derive(Clone)]
pub struct PeopleBackend {
    /// Who the server knows.
    pub people: Arc<dyn People>,
    /// Their records.
    pub records: Arc<dyn Records>,
}

impl<T: People + Records + 'static> From<Arc<T>> for PeopleBackend {
    fn from(store: Arc<T>) -> PeopleBackend {
        PeopleBackend {
            people: store.clone(),
            records: store,
        }
    }
}

impl std::fmt::Debug for PeopleBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeopleBackend").finish_non_exhaustive()
    }
}

/// A backend with a local log: the [`SessionLog`] and the [`Records`] over
/// the same data. The log's sessions are the owner's
/// ([`rollcoach_store::PersonId::owner`]).
#[derive(Clone)]
pub struct LogBackend {
    /// The terminal's log.
    pub log: Arc<dyn SessionLog>,
    /// The records the log writes into.
    pub records: Arc<dyn Records>,
}

impl<T: SessionLog + Records + 'static> From<Arc<T>> for LogBackend {
    fn from(store: Arc<T>) -> LogBackend {
        LogBackend {
            log: store.clone(),
            records: store,
        }
    }
}

impl std::fmt::Debug for LogBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogBackend").finish_non_exhaustive()
    }
}

/// One `#[test]` per property of [`records`], each on a fresh store from
/// the constructor given (a closure returning an `Arc` of a [`Records`]
/// backend, e.g. `|| Arc::new(MyRecords::new())`). See the [crate
/// documentation](crate).
#[macro_export]
macro_rules! records_suite {
    ($make:expr) => {
        $crate::__records_tests! { $make, [
                export_then_import_then_export_is_the_identity_for_every_outcome,
                export_import_export_is_exact_for_twin_injuries_and_refuses_the_same_sessions,
                importing_the_same_sessions_twice_skips_them_by_uid,
                a_failed_import_changes_nothing,
                the_csv_has_one_row_per_session_with_rating_columns_and_quoting,
                the_streamed_export_is_the_document_byte_for_byte,
                a_streamed_import_round_trips_and_skips_what_is_there,
                a_refused_streamed_import_names_the_problem_and_writes_nothing,
                each_distinct_snapshot_is_exported_once_and_references_resolve,
                a_streamed_import_that_fails_while_writing_removes_what_it_wrote,
                injuries_are_added_listed_and_cleared_by_uid,
                new_injuries_get_distinct_uids_in_the_sessions_format,
                the_facts_hold_the_uncleared_injuries_of_the_area_and_the_last_pairing,
                an_imported_clear_is_applied_and_a_clear_only_moves_forward,
                an_injury_uid_here_with_other_content_refuses_the_whole_import_naming_the_field,
                an_injury_uid_twice_in_a_document_is_refused,
                an_old_export_without_injury_uids_keeps_both_twins_and_imports_once,
                a_pushed_session_is_stored_once_however_often_it_is_accepted,
                a_different_session_under_a_stored_uid_differs_and_is_not_stored,
                what_is_recorded_at_the_end_is_the_finished_record_field_for_field,
                history_is_newest_first_with_ratings_and_honours_the_limit,
                history_pages_by_uid_cover_every_session_once_newest_first,
                history_rows_are_the_history_pages_in_short,
                rating_series_keep_the_most_recent_sessions_oldest_first,
                the_summary_counts_this_week_the_streak_and_the_average_change,
                every_change_appears_once_after_its_cursor,
                a_device_is_found_by_its_secret_hash_until_it_is_revoked,
                a_pairing_token_pairs_one_device_once_and_not_after_it_expires,
                two_people_in_one_store_never_see_each_other_s_records,
                two_people_may_hold_the_same_uids_and_each_sees_only_their_own,
                a_person_s_change_cursors_say_nothing_of_another_person_s_changes,
            ]
        }
    };
}

/// One `#[test]` per property of [`log`], each on a fresh backend from the
/// constructor given (a closure returning a [`LogBackend`], or an `Arc` of
/// a type that is both a [`SessionLog`] and [`Records`]). See the [crate
/// documentation](crate).
#[macro_export]
macro_rules! log_suite {
    ($make:expr) => {
        $crate::__log_tests! { $make, [
                events_are_kept_in_order_and_are_append_only,
                a_finished_session_accepts_no_more_events_and_cannot_finish_twice,
                a_completed_session_is_recorded_with_ratings_reps_and_pairing,
                stops_and_refusals_are_recorded_with_their_reason,
                a_driver_can_interrupt_its_own_live_session_and_recovery_leaves_it_alone,
                what_the_log_records_at_the_start_and_the_end_is_the_finished_record,
                a_log_cut_at_any_point_recovers_as_interrupted_with_the_reps_it_proves_once,
                a_log_that_reached_the_end_records_the_engine_s_end,
                a_live_session_imported_elsewhere_is_recovered_as_interrupted,
                session_uids_are_unique_and_begin_with_the_start,
                interrupting_a_session_that_does_not_exist_says_so,
                the_log_s_sessions_and_facts_are_the_owner_s,
                export_import_export_is_the_identity_for_random_sessions,
            ]
        }
    };
}

/// One `#[test]` per property of [`people`], each on a fresh backend from
/// the constructor given (a closure returning a [`PeopleBackend`], or an
/// `Arc` of a type that is both [`People`] and [`Records`]). See the
/// [crate documentation](crate).
#[macro_export]
macro_rules! people_suite {
    ($make:expr) => {
        $crate::__people_tests! { $make, [
                coach_names_are_unique_whatever_their_case,
                the_owner_is_known_without_a_row_and_is_no_coach,
                a_password_hash_is_set_and_replaced,
                an_invite_lets_one_client_in_once_and_not_after_it_expires,
                an_invite_is_good_until_just_before_it_expires,
                a_client_of_another_coach_is_not_found,
                sign_in_failures_are_counted_in_their_window_and_cleared,
                people_moved_from_another_database_keep_their_ids_and_devices,
            ]
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __people_tests {
    ($make:expr, [$($name:ident),* $(,)?]) => {
        $(
            #[test]
            fn $name() {
                let make = $make;
                let make = move || -> $crate::PeopleBackend { $crate::PeopleBackend::from(make()) };
                $crate::people::$name(&make);
            }
        )*
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __records_tests {
    ($make:expr, [$($name:ident),* $(,)?]) => {
        $(
            #[test]
            fn $name() {
                let make = $make;
                let make = move || -> ::std::sync::Arc<dyn $crate::Records> { make() };
                $crate::records::$name(&make);
            }
        )*
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __log_tests {
    ($make:expr, [$($name:ident),* $(,)?]) => {
        $(
            #[test]
            fn $name() {
                let make = $make;
                let make = move || -> $crate::LogBackend { $crate::LogBackend::from(make()) };
                $crate::log::$name(&make);
            }
        )*
    };
}
