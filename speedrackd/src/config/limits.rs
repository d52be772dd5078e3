//! The largest values the config files may hold, in one place so that messages and checks agree.
//!
//! Every bound exists because something downstream is unbounded without it: a reply that carries
//! a description, time arithmetic on a duration, a parser that is slow on deep nesting. This
//! module only names the bounds and words them; the readers apply them.

use std::time::Duration;

/// A settings or tasks file larger than this is refused before it is parsed.
pub const MAX_FILE_BYTES: u64 = 16 << 20;
/// A task's `command`.
pub const MAX_COMMAND_BYTES: usize = 64 << 10;
/// A task's `description`, and every other text value of a task.
pub const MAX_TEXT_BYTES: usize = 4 << 10;
/// A task's `name` as written: names become directory names, which file systems cap at 255 bytes.
pub const MAX_NAME_BYTES: usize = 128;
/// Collections inside collections, in either file: deep nesting costs the YAML parser
/// quadratic time long before it reaches its own limit.
pub const MAX_NESTING: usize = 64;
/// Every duration and interval: ten years, far beyond any useful timeout or period, and far
/// from where adding it to a clock reading could overflow.
pub const MAX_DURATION: Duration = Duration::from_secs(10 * 365 * 86_400);

/// The largest duration as the files write it.
pub const MAX_DURATION_TEXT: &str = "3650d";

/// `64 KiB`, `16 MiB`: a byte limit as people read it.
pub fn bytes_text(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

/// Refuses a duration above [`MAX_DURATION`], naming the key and the maximum.
pub fn check_duration(key: &str, value: Duration) -> Result<Duration, String> {
    if value > MAX_DURATION {
        return Err(format!(
            "{key} is too long: at most {MAX_DURATION_TEXT} (10 years)"
        ));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_limits_read_as_people_write_them() {
        assert_eq!(bytes_text(MAX_FILE_BYTES), "16 MiB");
        assert_eq!(bytes_text(MAX_COMMAND_BYTES as u64), "64 KiB");
        assert_eq!(bytes_text(100), "100 bytes");
    }

    #[test]
    fn durations_up_to_the_maximum_pass() {
        assert!(check_duration("timeout", MAX_DURATION).is_ok());
        let error =
            check_duration("timeout", MAX_DURATION + Duration::from_secs(1)).expect_err("too long");
        assert!(error.contains("at most 3650d"), "{error}");
        assert_eq!(
            humantime::parse_duration(MAX_DURATION_TEXT).ok(),
            Some(MAX_DURATION)
        );
    }
}
