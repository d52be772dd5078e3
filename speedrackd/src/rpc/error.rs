//! The one mapping from the daemon's errors to gRPC status codes.

use tonic::Status;

use crate::history::HistoryError;
use crate::runtime::ControlError;

impl From<ControlError> for Status {
    fn from(error: ControlError) -> Status {
        let message = error.to_string();
        match error {
            ControlError::UnknownTask(_) => Status::not_found(message),
            ControlError::ConfError { .. }
            | ControlError::AlreadyRunning { .. }
            | ControlError::NotRunning(_)
            | ControlError::RunNotRunning { .. } => Status::failed_precondition(message),
            ControlError::History(_) => Status::internal(message),
        }
    }
}

impl From<HistoryError> for Status {
    fn from(error: HistoryError) -> Status {
        Status::internal(error.to_string())
    }
}

/// The runtime loop has stopped: only happens while the daemon shuts down.
pub fn shutting_down() -> Status {
    Status::unavailable("speedrackd is shutting down")
}
