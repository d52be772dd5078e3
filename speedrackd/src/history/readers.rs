//! Read-only connections to the history database, for everyone but the writer: a small pool
//! so that a slow page or a long listing never holds the writer's lock, and the runtime loop
//! never waits behind a reader. WAL lets readers see every committed write while the writer
//! goes on.

use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

/// Readers open at most; one more waits for a free one. Two cores serve the daemon; more
/// connections than that only share them.
const MAX_READERS: usize = 4;
/// How long a read waits for a lock the writer holds (a WAL checkpoint) before failing.
const BUSY: Duration = Duration::from_secs(5);

#[derive(Debug)]
pub struct Readers {
    path: PathBuf,
    idle: Mutex<Pool>,
    freed: Condvar,
}

#[derive(Debug, Default)]
struct Pool {
    idle: Vec<Connection>,
    open: usize,
}

/// A borrowed reader, given back to the pool when dropped.
pub struct Reader<'a> {
    readers: &'a Readers,
    conn: Option<Connection>,
}

impl Readers {
    pub fn new(path: &Path) -> Readers {
        Readers {
            path: path.to_path_buf(),
            idle: Mutex::new(Pool::default()),
            freed: Condvar::new(),
        }
    }

    /// An idle reader, a new one while fewer than `MAX_READERS` are open, or the next one
    /// given back.
    pub fn get(&self) -> rusqlite::Result<Reader<'_>> {
        let mut pool = self.lock();
        loop {
            if let Some(conn) = pool.idle.pop() {
                return Ok(self.lend(conn));
            }
            if pool.open < MAX_READERS {
                pool.open += 1;
                drop(pool);
                return match open(&self.path) {
                    Ok(conn) => Ok(self.lend(conn)),
                    Err(error) => {
                        self.lock().open -= 1;
                        self.freed.notify_one();
                        Err(error)
                    }
                };
            }
            pool = self
                .freed
                .wait(pool)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn lend(&self, conn: Connection) -> Reader<'_> {
        Reader {
            readers: self,
            conn: Some(conn),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Pool> {
        // A panic while holding this lock leaves the pool's bookkeeping whole.
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl std::ops::Deref for Reader<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        // Some from `lend` until `drop`.
        self.conn
            .as_ref()
            .unwrap_or_else(|| unreachable!("a lent reader has its connection"))
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.readers.lock().idle.push(conn);
            self.readers.freed.notify_one();
        }
    }
}

fn open(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY)?;
    Ok(conn)
}
