//! Reading a stopped (or killed) daemon's history database directly, for the exactly-once
//! checks of the torture tests, and the seeded generator that picks their moments.
//!
//! Read-only: what is fixed up before a start is each test's own business.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

/// The history database of `data_dir`, opened read-only.
pub fn open_history(data_dir: &Path) -> Connection {
    Connection::open_with_flags(
        data_dir.join("history.sqlite3"),
        OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open the history database")
}

/// (task, scheduled instant in µs, count) of scheduled fires recorded more than once.
pub fn duplicate_fires(conn: &Connection) -> Vec<(String, i64, i64)> {
    let mut statement = conn
        .prepare(
            "SELECT task, scheduled_at_us, COUNT(*) FROM runs WHERE trigger = 'schedule'
             GROUP BY task, scheduled_at_us HAVING COUNT(*) > 1",
        )
        .expect("prepare");
    statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .expect("query")
        .map(|row| row.expect("row"))
        .collect()
}

/// A linear congruential generator: reproducible random choices without another crate.
pub struct Lcg(pub u64);

impl Lcg {
    /// The next number below `bound`.
    pub fn below(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound
    }
}
