//! The connections: a small pool (a lock, a list of idle connections and a
//! bound on how many are open), each connection querying as
//! `rollcoach_app` with its statements prepared once, and the transaction
//! every call runs in, scoped to its person.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard};

use postgres::types::ToSql;
use postgres::{Client, NoTls, Row, Statement};
use rollcoach_store::{Backend, PersonId, Result, StoreError};

use crate::errors::from_pg;

/// Most connections one store keeps open at once: calls beyond it wait for
/// one to come back. Two servers on one database use twice as many, well
/// under PostgreSQL's default `max_connections` (100).
pub const MAX_CONNECTIONS: usize = 24;

/// One connection and its prepared statements.
pub(crate) struct Conn {
    client: Client,
    statements: HashMap<String, Statement>,
    location: std::sync::Arc<str>,
    /// A rollback failed: the connection may be left in a transaction.
    broken: bool,
}

impl Conn {
    /// Where the database is, as errors name it.
    pub(crate) fn location(&self) -> &str {
        &self.location
    }

    /// The statement for `sql`, prepared on this connection once.
    fn statement(&mut self, sql: &str) -> Result<Statement> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self
            .client
            .prepare(sql)
            .map_err(|e| from_pg(&self.location, e))?;
        self.statements.insert(sql.to_owned(), s.clone());
        Ok(s)
    }

    /// The rows `sql` gives.
    pub(crate) fn query(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        let s = self.statement(sql)?;
        self.client
            .query(&s, params)
            .map_err(|e| from_pg(&self.location, e))
    }

    /// The row `sql` gives, if any (at most one is expected).
    pub(crate) fn query_opt(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// Runs `sql`; how many rows it wrote.
    pub(crate) fn execute(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        let s = self.statement(sql)?;
        self.client
            .execute(&s, params)
            .map_err(|e| from_pg(&self.location, e))
    }

    /// Runs SQL text of one or more statements, without parameters.
    pub(crate) fn batch(&mut self, sql: &str) -> Result<()> {
        self.client
            .batch_execute(sql)
            .map_err(|e| from_pg(&self.location, e))
    }

    /// Runs `f` in a transaction whose settings are `settings` (pairs of a
    /// setting and its value, local to the transaction): committed if it
    /// returns `Ok`, rolled back otherwise.
    ///
    /// `f` must not go on after an error of the database: PostgreSQL ends
    /// a transaction at its first error, and a `COMMIT` then rolls back.
    pub(crate) fn transaction<T>(
        &mut self,
        settings: &[(&str, &str)],
        f: impl FnOnce(&mut Conn) -> Result<T>,
    ) -> Result<T> {
        let mut begin = String::from("BEGIN");
        for (name, value) in settings {
            // Both are the store's: a setting name, and a person id or a
            // hex hash; quoted all the same.
            begin.push_str(&format!(
                "; SELECT set_config({}, {}, true)",
                literal(name),
                literal(value)
            ));
        }
        self.batch(&begin)?;
        match f(self) {
            Ok(v) => {
                self.batch("COMMIT")?;
                Ok(v)
            }
            Err(e) => {
                // A failed rollback may leave the connection in a
                // transaction: the pool drops it.
                if self.client.batch_execute("ROLLBACK").is_err() {
                    self.broken = true;
                }
                Err(e)
            }
        }
    }

    /// Whether the connection can be used again: open, and not left in a
    /// transaction.
    fn healthy(&self) -> bool {
        !self.broken && !self.client.is_closed()
    }
}

/// `text` as an SQL string literal (standard conforming strings: only `'`
/// is special).
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The connections of one store.
pub(crate) struct Pool {
    config: postgres::Config,
    location: std::sync::Arc<str>,
    state: Mutex<State>,
    returned: Condvar,
}

#[derive(Default)]
struct State {
    idle: Vec<Conn>,
    /// Connections open, idle or in use.
    open: usize,
}

impl Pool {
    pub(crate) fn new(config: postgres::Config) -> Pool {
        Pool {
            location: describe(&config).into(),
            config,
            state: Mutex::new(State::default()),
            returned: Condvar::new(),
        }
    }

    pub(crate) fn location(&self) -> &str {
        &self.location
    }

    /// A new connection as the user of the URL (who migrates), outside the pool.
    pub(crate) fn connect_owner(&self) -> Result<Conn> {
        let client = self.config.connect(NoTls).map_err(|e| {
            StoreError::from(Backend::Failed {
                location: self.location.to_string(),
                source: format!("cannot connect: {}", errors_text(&e)).into(),
            })
        })?;
        Ok(Conn {
            client,
            statements: HashMap::new(),
            location: self.location.clone(),
            broken: false,
        })
    }

    /// A new connection for the pool: as [`Pool::connect_owner`], then
    /// querying as `rollcoach_app`.
    fn connect(&self) -> Result<Conn> {
        let mut conn = self.connect_owner()?;
        conn.batch("SET ROLE rollcoach_app").map_err(|e| {
            StoreError::from(Backend::Failed {
                location: self.location.to_string(),
                source: format!(
                    "cannot query as the role rollcoach_app ({e}); the user of the URL must be a \
                     member of it (the migrations grant it to the user that ran them: \
                     `GRANT rollcoach_app TO USER` as the database's owner)"
                )
                .into(),
            })
        })?;
        Ok(conn)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on a connection of the pool (waiting for one if
    /// [`MAX_CONNECTIONS`] are in use), then gives it back, unless it broke.
    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut Conn) -> Result<T>) -> Result<T> {
        let idle = {
            let mut state = self.lock();
            loop {
                if let Some(conn) = state.idle.pop() {
                    break Some(conn);
                }
                if state.open < MAX_CONNECTIONS {
                    state.open += 1;
                    break None;
                }
                state = self.returned.wait(state).unwrap_or_else(|e| e.into_inner());
            }
        };
        // From here this call holds one of the `open` slots: `Slot` gives
        // it back however the call ends (an error, a panic).
        let mut slot = Slot {
            pool: self,
            conn: None,
        };
        slot.conn = Some(match idle {
            Some(conn) => conn,
            None => self.connect()?,
        });
        let conn = slot.conn.as_mut().expect("a connection");
        f(conn)
    }

    /// Runs `f` on a pooled connection in a transaction scoped to `person`.
    pub(crate) fn scoped<T>(
        &self,
        person: &PersonId,
        f: impl FnOnce(&mut Conn) -> Result<T>,
    ) -> Result<T> {
        self.with(|c| c.transaction(&[("rollcoach.person", person.as_str())], f))
    }
}

impl Drop for Pool {
    /// Closes the idle connections on a thread of their own: closing one
    /// blocks on the synchronous client's own small runtime, which cannot
    /// run on a thread that drives an async runtime (a server dropping its
    /// state there, at shutdown, would panic).
    fn drop(&mut self) {
        let idle = std::mem::take(&mut self.lock().idle);
        if !idle.is_empty() {
            let _ = std::thread::spawn(move || drop(idle)).join();
        }
    }
}

/// A call's hold on one connection of the pool.
struct Slot<'a> {
    pool: &'a Pool,
    conn: Option<Conn>,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut state = self.pool.lock();
        match self.conn.take() {
            Some(conn) if !std::thread::panicking() && conn.healthy() => state.idle.push(conn),
            _ => state.open -= 1,
        }
        drop(state);
        self.pool.returned.notify_one();
    }
}

/// The database as errors name it: `DB on HOST as USER (PostgreSQL)`.
fn describe(config: &postgres::Config) -> String {
    use postgres::config::Host;
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            Host::Tcp(name) => name.clone(),
            #[cfg(unix)]
            Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    let host = if hosts.is_empty() {
        "localhost".to_owned()
    } else {
        hosts.join(",")
    };
    let user = config.get_user().unwrap_or("(the login user)");
    let db = config.get_dbname().unwrap_or(user);
    format!("{db} on {host} as {user} (PostgreSQL)")
}

/// An error with its causes, as one line.
pub(crate) fn errors_text(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}
