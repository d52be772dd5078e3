//! How many connections the gateway may hold and for how long, and the file descriptors it
//! must leave to the rest of the process.
//!
//! In-process, every socket the gateway holds is a descriptor runs cannot have: a flood of idle
//! connections once made every fire fail with "Too many open files". So the gateway's share is
//! computed from RLIMIT_NOFILE: [`FD_RESERVE`] descriptors are never the gateway's, and of the
//! rest it takes at most half, refusals included. This module decides numbers only; the accept
//! loop that enforces them is `server.rs`.

use std::time::Duration;

/// Descriptors the gateway never takes, whatever the limit: the database, the API socket and
/// its clients, and a few dozen runs starting at once (a run holds about six while it starts:
/// two pipes, two output files, the child's handle).
pub const FD_RESERVE: u64 = 128;

/// Connections being answered 503 at the same moment. Each is held at most
/// [`REFUSAL_LINGER`], so that the client reads the answer before the socket closes; beyond this
/// many, a connection over the cap is closed at once.
pub const REFUSAL_SLOTS: usize = 16;

/// How long a refused connection is kept open to let the client read its 503.
pub const REFUSAL_LINGER: Duration = Duration::from_secs(1);

/// The soft limit the process raises itself to at most: children inherit it, and some programs
/// loop over every possible descriptor (closing them before exec).
pub const NOFILE_CEILING: u64 = 65_536;

/// The gateway's connection limits as configured in `web:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// How long a client may take to send a request's headers; the same budget applies to an
    /// idle keep-alive connection waiting for its next request.
    pub header_timeout: Duration,
    /// The most connections served at once; further ones get 503.
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_timeout: Duration::from_secs(10),
            max_connections: 256,
        }
    }
}

/// Why the gateway cannot serve within the descriptor limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the open-file limit (RLIMIT_NOFILE) is {limit}: too low to serve the web UI and keep \
     {FD_RESERVE} descriptors for runs; raise it (LimitNOFILE= in the systemd unit, or ulimit -n) \
     to at least {needed}"
)]
pub struct TooFewFds {
    pub limit: u64,
    pub needed: u64,
}

/// How many connections may be served at once under a soft descriptor limit of `nofile`: the
/// configured cap, or less when the limit leaves less.
pub fn connection_cap(nofile: u64, configured: usize) -> Result<usize, TooFewFds> {
    let slots = REFUSAL_SLOTS as u64;
    let share = nofile.saturating_sub(FD_RESERVE) / 2;
    let servable = share.saturating_sub(slots);
    if servable == 0 {
        return Err(TooFewFds {
            limit: nofile,
            needed: FD_RESERVE + 2 * (slots + 1),
        });
    }
    Ok(usize::try_from(servable).map_or(configured, |servable| servable.min(configured)))
}

/// The process's soft descriptor limit now (`u64::MAX` when unlimited).
pub fn nofile_limit() -> u64 {
    rustix::process::getrlimit(rustix::process::Resource::Nofile)
        .current
        .unwrap_or(u64::MAX)
}

/// Raises the soft descriptor limit to the hard one, at most [`NOFILE_CEILING`] (never lowers
/// it), and returns the soft limit then in force. Systemd starts services with a soft limit of
/// 1024 and a far higher hard one, expecting programs that need more to ask.
pub fn raise_nofile_limit() -> u64 {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let current = limit.current.unwrap_or(u64::MAX);
    let target = limit.maximum.unwrap_or(u64::MAX).min(NOFILE_CEILING);
    if target <= current {
        return current;
    }
    let raised = Rlimit {
        current: Some(target),
        maximum: limit.maximum,
    };
    match setrlimit(Resource::Nofile, raised) {
        Ok(()) => target,
        Err(error) => {
            tracing::warn!("cannot raise the open-file limit from {current} to {target}: {error}");
            current
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_leaves_the_reserve_and_half_the_rest() {
        // limit, configured cap, connections served
        let cases = [
            (65_536, 256, Ok(256)),
            (1024, 1000, Ok(432)),
            (1024, 100, Ok(100)),
            (256, 256, Ok(48)),
            (u64::MAX, 300, Ok(300)),
        ];
        for (limit, configured, expected) in cases {
            assert_eq!(
                connection_cap(limit, configured),
                expected,
                "{limit} {configured}"
            );
            if let Ok(cap) = connection_cap(limit, configured) {
                let held = (cap + REFUSAL_SLOTS) as u64;
                assert!(
                    limit == u64::MAX || held + FD_RESERVE + held <= limit,
                    "{limit}"
                );
            }
        }
    }

    #[test]
    fn a_limit_below_the_reserve_is_a_clear_error() {
        for limit in [0, 64, FD_RESERVE, FD_RESERVE + 33] {
            let error = connection_cap(limit, 256).expect_err("too low");
            assert!(error.to_string().contains("LimitNOFILE"), "{error}");
            assert_eq!(
                connection_cap(error.needed, 256),
                Ok(1),
                "the limit it asks for is enough"
            );
        }
    }
}
