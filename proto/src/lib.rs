//! The speedrack.v1 contract, shared by speedrackd and every client.
//!
//! Owns the generated protobuf/gRPC code, the protocol version, the helper that connects a
//! client to the daemon's Unix socket, and whether a client may trust the default one. It holds no behaviour of the daemon: clients depend on
//! this crate, never on `speedrackd`.

mod connect;
mod socket_path;
mod socket_trust;

pub use connect::{ConnectError, connect};
pub use socket_path::{SOCKET_ENV, SOCKET_FILE_NAME, default_socket_path, fallback_socket_dir};
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
pub const PROTOCOL_VERSION: u32 = 1;
