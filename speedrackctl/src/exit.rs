//! How a failed command becomes an exit code and a one-line message.
//!
//! The table of codes is defined here and applied by `main`; commands only return errors.
//! It does not print anything itself.

use std::path::Path;

use speedrack_proto::ConnectError;
use tonic::Code;

/// The exit codes, as shown at the end of `--help`.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  ok
  1  the operation failed
  2  usage error
  3  speedrackd is unreachable
  4  no such task or run
  5  permission denied on speedrackd's socket (not in its group: ask an admin, or use sudo)
  124  run-now --wait gave up waiting (--timeout) before the run ended";

const FAILED: u8 = 1;
const UNREACHABLE: u8 = 3;
const NOT_FOUND: u8 = 4;
const SOCKET_DENIED: u8 = 5;
/// As timeout(1) says that it gave up.
const GAVE_UP: u8 = 124;

/// Waiting for a run to end took longer than the caller allowed; the run goes on.
#[derive(Debug)]
pub struct GaveUp(pub String);

impl std::fmt::Display for GaveUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GaveUp {}

/// A "not found" that speedrackctl decides itself, e.g. a run that belongs to another task.
#[derive(Debug)]
pub struct NotFound(pub String);

impl std::fmt::Display for NotFound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotFound {}

/// What `main` does with a failed command.
#[derive(Debug, PartialEq, Eq)]
pub struct Exit {
    /// The process exit code.
    pub code: u8,
    /// The line for stderr; `None` when there is nothing useful to say.
    pub message: Option<String>,
}

/// Classifies a command's error; `socket` is the path that was used, for messages that name it.
pub fn classify(err: &anyhow::Error, socket: &Path) -> Exit {
    if let Some(err) = err.downcast_ref::<ConnectError>() {
        let code = match err {
            ConnectError::Unreachable { .. } => UNREACHABLE,
            ConnectError::Denied(_) => SOCKET_DENIED,
        };
        return exit(code, err.to_string());
    }
    if let Some(status) = err.downcast_ref::<tonic::Status>() {
        return exit(code_for(status.code()), status_message(status, socket));
    }
    if let Some(NotFound(message)) = err.downcast_ref::<NotFound>() {
        return exit(NOT_FOUND, message.clone());
    }
    if let Some(GaveUp(message)) = err.downcast_ref::<GaveUp>() {
        return exit(GAVE_UP, message.clone());
    }
    if let Some(io) = err.downcast_ref::<std::io::Error>()
        && io.kind() == std::io::ErrorKind::BrokenPipe
    {
        // The reader of our stdout went away (`speedrackctl output t | head`): it has all it
        // wanted, which is not a failure worth a message.
        return Exit {
            code: 0,
            message: None,
        };
    }
    exit(FAILED, format!("{err:#}"))
}

fn exit(code: u8, message: String) -> Exit {
    Exit {
        code,
        message: Some(message),
    }
}

/// The exit code for a gRPC status from the daemon.
fn code_for(code: Code) -> u8 {
    match code {
        Code::NotFound => NOT_FOUND,
        // The connection was made but broke, or the daemon is shutting down.
        Code::Unavailable => UNREACHABLE,
        _ => FAILED,
    }
}

fn status_message(status: &tonic::Status, socket: &Path) -> String {
    let message = match status.message() {
        "" => status.code().description(),
        message => message,
    };
    match status.code() {
        Code::Unavailable => format!(
            "cannot reach speedrackd at {}: {message} (is the service running?)",
            socket.display()
        ),
        Code::PermissionDenied => {
            format!("{message} (run speedrackctl as the daemon's user or as root)")
        }
        // tonic's code for a message over the size limit, on either side of the socket.
        Code::OutOfRange => format!(
            "speedrackd's reply was too large to accept ({message}); this is a bug in \
             speedrackd, please report it"
        ),
        _ => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use speedrack_proto::{Admitted, SocketDenied};

    use super::*;

    const SOCKET: &str = "/run/speedrack/speedrackd.sock";

    fn check(err: impl Into<anyhow::Error>, code: u8, message: Option<&str>) {
        let got = classify(&err.into(), Path::new(SOCKET));
        assert_eq!(
            got,
            Exit {
                code,
                message: message.map(str::to_owned)
            }
        );
    }

    #[test]
    fn grpc_codes() {
        let cases = [
            (Code::NotFound, NOT_FOUND),
            (Code::Unavailable, UNREACHABLE),
            (Code::FailedPrecondition, FAILED),
            (Code::InvalidArgument, FAILED),
            (Code::PermissionDenied, FAILED),
            (Code::Internal, FAILED),
            (Code::Unknown, FAILED),
            (Code::OutOfRange, FAILED),
            (Code::DeadlineExceeded, FAILED),
        ];
        for (code, expected) in cases {
            assert_eq!(code_for(code), expected, "{code:?}");
        }
    }

    #[test]
    fn messages() {
        check(
            tonic::Status::not_found("no task named nope"),
            NOT_FOUND,
            Some("no task named nope"),
        );
        check(
            tonic::Status::unavailable("connection closed"),
            UNREACHABLE,
            Some(
                "cannot reach speedrackd at /run/speedrack/speedrackd.sock: connection closed \
                 (is the service running?)",
            ),
        );
        check(
            tonic::Status::permission_denied("only root may suspend tasks"),
            FAILED,
            Some("only root may suspend tasks (run speedrackctl as the daemon's user or as root)"),
        );
        check(tonic::Status::internal(""), FAILED, Some("Internal error"));
        check(
            tonic::Status::out_of_range(
                "Error, decoded message length too large: found 40 bytes, the limit is: 4 bytes",
            ),
            FAILED,
            Some(
                "speedrackd's reply was too large to accept (Error, decoded message length too \
                 large: found 40 bytes, the limit is: 4 bytes); this is a bug in speedrackd, \
                 please report it",
            ),
        );
        check(
            NotFound("run 7 does not belong to task a".into()),
            NOT_FOUND,
            Some("run 7 does not belong to task a"),
        );
        check(
            GaveUp("gave up waiting for run 7 of a after 5s; it goes on".into()),
            GAVE_UP,
            Some("gave up waiting for run 7 of a after 5s; it goes on"),
        );
        check(
            anyhow::anyhow!("task a has no runs yet"),
            FAILED,
            Some("task a has no runs yet"),
        );
    }

    #[test]
    fn connect_error_is_unreachable() {
        let err = ConnectError::Unreachable {
            path: SOCKET.into(),
            reason: "No such file or directory (os error 2)".into(),
        };
        let expected = err.to_string();
        check(err, UNREACHABLE, Some(&expected));
    }

    #[test]
    fn a_socket_kept_from_us_is_its_own_code_not_unreachable() {
        let err = ConnectError::Denied(SocketDenied {
            path: SOCKET.into(),
            who: Admitted::Group("speedrack".into()),
        });
        check(
            err,
            SOCKET_DENIED,
            Some(
                "permission denied on /run/speedrack/speedrackd.sock: you are not in group \
                 speedrack (the socket's group); ask an admin to add you, or use sudo",
            ),
        );
    }

    #[test]
    fn broken_pipe_is_quiet_success() {
        check(
            std::io::Error::from(std::io::ErrorKind::BrokenPipe),
            0,
            None,
        );
    }

    #[test]
    fn context_keeps_the_status_visible() {
        let err = anyhow::Error::from(tonic::Status::not_found("no run 9"))
            .context("reading the output of run 9");
        assert_eq!(classify(&err, Path::new(SOCKET)).code, NOT_FOUND);
    }
}
