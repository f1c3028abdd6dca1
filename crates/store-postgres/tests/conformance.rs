//! The store's conformance suite (`rollcoach-store-conformance`) on
//! PostgreSQL: every property of the records and of the people, each on a database of its
//! own (see `common`). Skipped, saying so, without `ROLLCOACH_TEST_POSTGRES`
//! (failing under `CI=true`).

mod common;

use std::sync::Arc;

use rollcoach_store_conformance::{people_suite, records_suite};
use rollcoach_store_postgres::PgRecords;

fn fresh() -> Arc<PgRecords> {
    let url = common::fresh_database();
    Arc::new(PgRecords::open(&url).unwrap_or_else(|e| panic!("a store on {url}: {e}")))
}

mod records_on_postgres {
    // The constructor's expression runs first in each test: without a test
    // server, the test returns there.
    super::records_suite!({
        if super::common::skip() {
            return;
        }
        super::fresh
    });
}

mod people_on_postgres {
    super::people_suite!({
        if super::common::skip() {
            return;
        }
        super::fresh
    });
}
