//! The speedrack.v1 contract, shared by speedrackd and every client.
//!
//! Owns the generated protobuf/gRPC code, the protocol version, the helper that connects a
//! client to the daemon's Unix socket, reading a whole task list, and which socket a client uses when none is named (the system one first) and whether it may trust it; with feature `man`, how the binaries' man pages are composed. It holds no behaviour of the daemon: clients depend on
//! this crate, never on `speedrackd`.

mod connect;
mod list_tasks;
#[cfg(feature = "man")]
pub mod man;
mod socket_denied;
mod socket_path;
mod socket_trust;

pub use connect::{ConnectError, connect};
pub use list_tasks::{ListTasksError, MAX_PAGES, MAX_RESTARTS, list_all_tasks};
pub use socket_denied::{Admitted, SocketDenied};
pub use socket_path::{
    SOCKET_ENV, SOCKET_FILE_NAME, SYSTEM_SOCKET, SYSTEM_SOCKET_ENV, default_socket_path,
    fallback_socket_dir, system_socket_path,
};
pub use socket_trust::{UntrustedSocket, choose_socket};

/// Generated types and services of `package speedrack.v1`.
pub mod v1 {
    #![allow(missing_docs, clippy::all)]
    tonic::include_proto!("speedrack.v1");
}

/// The encoded file descriptor set of speedrack.proto, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/speedrack_descriptor.bin"));

/// Version of the contract this crate was built with; reported by `GetStatus`.
///
/// Raised when a client may need to know that the daemon has something new. Clients compare it
/// with what the daemon reports and say what to do on a mismatch.
///
/// 2: ListTasks pages (`page_token`), lists leave out definitions, `ScrapeMetrics`,
/// `WatchEventsResponse.events_dropped`.
pub const PROTOCOL_VERSION: u32 = 2;

/// The largest message either side of the contract sends or accepts.
///
/// Lists are paged well under it (`LIST_PAGE_BYTES`); only one-off replies such as GetConfig
/// (which carries the tasks file as written) come near it. A reply over it is refused by the
/// daemon rather than sent, and by the client rather than decoded.
pub const MAX_MESSAGE_BYTES: usize = 32 << 20;

/// Where the daemon ends a page of a list (ListTasks, ListRuns): one more item would pass it.
pub const LIST_PAGE_BYTES: usize = 1 << 20;
