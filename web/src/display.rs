//! The daemon's display settings (GetConfig's DisplaySettings) as the gateway uses them.
//!
//! The gateway has no settings file of its own: it reads these from the daemon, so the
//! in-process and the standalone gateway show the same. Zero or empty values from the daemon
//! mean "not set" and take the same defaults as speedrackd's settings.

use speedrack_proto::v1 as pb;

/// What shapes the pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Display {
    /// Title and navbar (seed APP_NAME).
    pub app_name: String,
    /// Prefix of every generated URL (seed SCRIPT_NAME), "" for none.
    pub script_name: String,
    /// Runs shown on a task page before "show all".
    pub execution_display: u32,
    /// Output over this many bytes is shown by its first `fsize_summary` bytes.
    pub fsize_max: u64,
    pub fsize_summary: u64,
}

impl Default for Display {
    fn default() -> Self {
        Display {
            app_name: "Speedrack".to_owned(),
            script_name: String::new(),
            execution_display: 20,
            fsize_max: 1 << 20,
            fsize_summary: 64 << 10,
        }
    }
}

impl Display {
    /// Runs a tasks page row sums up (its success rate and sparkline); ListTasks gives at most
    /// 100 per task.
    pub fn row_runs(&self) -> u32 {
        self.execution_display.min(100)
    }

    pub fn from_pb(settings: &pb::DisplaySettings) -> Display {
        let defaults = Display::default();
        let or = |value: u64, default: u64| if value == 0 { default } else { value };
        let fsize_max = or(settings.fsize_max, defaults.fsize_max);
        Display {
            app_name: if settings.app_name.trim().is_empty() {
                defaults.app_name
            } else {
                settings.app_name.clone()
            },
            script_name: clean_script_name(&settings.script_name),
            execution_display: match settings.execution_display {
                0 => defaults.execution_display,
                // ListTasks returns at most 100 recent runs; a page of more is not useful.
                shown => shown.min(1000),
            },
            fsize_max,
            fsize_summary: or(settings.fsize_summary, defaults.fsize_summary).min(fsize_max),
        }
    }
}

/// The prefix as a path: "" or "/a/b", never ending in `/`. Anything that could break out of
/// an attribute or a header is dropped rather than trusted.
fn clean_script_name(written: &str) -> String {
    let trimmed = written.trim().trim_end_matches('/');
    let safe = trimmed.starts_with('/')
        && !trimmed.starts_with("//")
        && trimmed
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/-_.~%".contains(c));
    if safe {
        trimmed.to_owned()
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_values_take_the_defaults() {
        assert_eq!(
            Display::from_pb(&pb::DisplaySettings::default()),
            Display::default()
        );
    }

    #[test]
    fn set_values_are_used() {
        let display = Display::from_pb(&pb::DisplaySettings {
            app_name: "Cron Central".to_owned(),
            script_name: "/speedrack/".to_owned(),
            execution_display: 5,
            fsize_max: 1000,
            fsize_summary: 5000,
            email_url_prefix: String::new(),
        });
        assert_eq!(display.app_name, "Cron Central");
        assert_eq!(display.script_name, "/speedrack");
        assert_eq!(display.execution_display, 5);
        assert_eq!(display.fsize_max, 1000);
        assert_eq!(
            display.fsize_summary, 1000,
            "a summary is never more than the max"
        );
    }

    #[test]
    fn unsafe_prefixes_are_dropped() {
        for bad in ["speedrack", "//evil.example", "/a\"b", "/a b", "/x\ny"] {
            assert_eq!(clean_script_name(bad), "", "{bad:?}");
        }
        assert_eq!(clean_script_name("/a/b-c"), "/a/b-c");
    }
}
