//! Caps on the strings clients send: names, page tokens and who a gateway acts for.
//!
//! A request is refused with INVALID_ARGUMENT before any of its text is stored, logged or echoed
//! back. The caps only bound size and shape; whether a name exists is each handler's business.

use tonic::Status;

/// `on_behalf_of`: a person's name or login as a gateway knows it.
pub const MAX_ON_BEHALF_OF: usize = 256;
/// Task names and page tokens: no valid one comes near it.
pub const MAX_NAME: usize = 256;

/// Refuses `value` of request field `field` when it is longer than `max` bytes or holds control
/// characters (which would forge lines in logs and in the history's "requested by").
pub fn free_text(field: &str, value: &str, max: usize) -> Result<(), Status> {
    if value.len() > max {
        return Err(Status::invalid_argument(format!(
            "{field} is {} bytes long; at most {max} are accepted",
            value.len()
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(Status::invalid_argument(format!(
            "{field} holds control characters; send printable text only"
        )));
    }
    Ok(())
}

/// `on_behalf_of` of a request that changes something.
pub fn on_behalf_of(value: &str) -> Result<(), Status> {
    free_text("on_behalf_of", value, MAX_ON_BEHALF_OF)
}

/// A task name as a client gives it.
pub fn task_name(value: &str) -> Result<(), Status> {
    free_text("the task name", value, MAX_NAME)
}

#[cfg(test)]
mod tests {
    use tonic::Code;

    use super::*;

    #[test]
    fn long_or_control_text_is_refused_plainly() {
        assert!(on_behalf_of("").is_ok());
        assert!(on_behalf_of("Ann Example <ann@example.org>").is_ok());
        assert!(on_behalf_of(&"é".repeat(MAX_ON_BEHALF_OF / 2)).is_ok());
        let long = on_behalf_of(&"a".repeat(MAX_ON_BEHALF_OF + 1)).expect_err("too long");
        assert_eq!(long.code(), Code::InvalidArgument);
        assert_eq!(
            long.message(),
            "on_behalf_of is 257 bytes long; at most 256 are accepted"
        );
        let forged = on_behalf_of("ann\nINFO run 7 finished").expect_err("a newline");
        assert_eq!(forged.code(), Code::InvalidArgument);
        assert!(forged.message().contains("control characters"));
        let name = task_name(&"t".repeat(5000)).expect_err("too long");
        assert!(
            name.message()
                .starts_with("the task name is 5000 bytes long")
        );
    }
}
