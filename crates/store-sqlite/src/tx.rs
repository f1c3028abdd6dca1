//! Transactions: every write is all or nothing, on its own or inside a
//! batch (group commit), where it becomes a savepoint. Each transaction
//! first checks that the store may write (`SqliteStore::check_writable`:
//! not opened read-only, and its file neither removed nor replaced).

use rollcoach_store::Result;
use rusqlite::Connection;

use crate::SqliteStore;

impl SqliteStore {
    /// Runs `f` in a `BEGIN IMMEDIATE` transaction (a savepoint inside a
    /// batch): committed if it returns `Ok`, rolled back otherwise.
    pub(crate) fn write<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, rusqlite::Error>,
    ) -> Result<T> {
        self.write_with(|conn| f(conn).map_err(self.err()))
    }

    pub(crate) fn write_with<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        if self.in_batch.get() {
            // Within a batch: a savepoint, so one failed write leaves the
            // batch's other writes alone.
            self.conn
                .execute_batch("SAVEPOINT write")
                .map_err(self.err())?;
            let result = f(&self.conn);
            let end = if result.is_ok() {
                "RELEASE write"
            } else {
                "ROLLBACK TO write; RELEASE write"
            };
            self.conn.execute_batch(end).map_err(self.err())?;
            return result;
        }
        self.check_writable()?;
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(self.err())?;
        match f(&self.conn) {
            Ok(v) => {
                if let Err(e) = self.conn.execute_batch("COMMIT") {
                    let _ = self.conn.execute_batch("ROLLBACK");
                    return Err(self.err()(e));
                }
                Ok(v)
            }
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// Runs `f` with every write it makes in one transaction (group commit):
    /// a server logging inputs of many sessions pays one commit for all the
    /// inputs that queued up meanwhile, not one each. Each write inside keeps
    /// its own all-or-nothing behaviour (a savepoint); nothing `f` wrote is
    /// durable until this returns `Ok`, so reply to the writers only then.
    /// If the commit fails, every write of the batch is rolled back.
    pub fn batch<T>(&mut self, f: impl FnOnce(&mut SqliteStore) -> T) -> Result<T> {
        let mut value = None;
        self.in_transaction(|s| {
            value = Some(f(s));
            Ok(())
        })?;
        Ok(value.expect("the batch ran"))
    }

    /// [`rollcoach_store::Store::transaction`]: like [`SqliteStore::batch`], and rolled back
    /// if `f` fails.
    pub(crate) fn in_transaction(
        &mut self,
        f: impl FnOnce(&mut SqliteStore) -> Result<()>,
    ) -> Result<()> {
        if self.in_batch.get() {
            return f(self);
        }
        self.check_writable()?;
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(self.err())?;
        self.in_batch.set(true);
        let result = f(self);
        self.in_batch.set(false);
        if let Err(e) = result {
            let _ = self.conn.execute_batch("ROLLBACK");
            return Err(e);
        }
        if let Err(e) = self.conn.execute_batch("COMMIT") {
            let _ = self.conn.execute_batch("ROLLBACK");
            return Err(self.err()(e));
        }
        Ok(())
    }
}
