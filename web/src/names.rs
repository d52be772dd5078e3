//! What a URL may name: tasks, runs, output streams and actions, validated before anything is
//! asked of the daemon. A segment that fails validation is a 404 at once; no path on any disk is
//! ever built from one (output is read through the API by run id).

use speedrack_proto::v1 as pb;

/// A task key as the daemon makes it: lowercase letters, digits, `_`, `-` and `.`, not starting
/// with `.` or `-` (so never `.` or `..`). Keys of the earlier rule (`_` for every separator)
/// are of this form too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskName(String);

impl TaskName {
    /// Longer names are not ones the daemon gives out in practice; refusing them bounds work.
    const MAX_LEN: usize = 200;

    pub fn parse(text: &str) -> Option<TaskName> {
        let well_formed = !text.is_empty()
            && text.len() <= TaskName::MAX_LEN
            && !text.starts_with(['.', '-'])
            && text.chars().all(|c| {
                matches!(c, '_' | '-' | '.') || (c.is_alphanumeric() && !c.is_uppercase())
            });
        well_formed.then(|| TaskName(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A run id: a positive decimal integer, digits only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunId(pub i64);

impl RunId {
    pub fn parse(text: &str) -> Option<RunId> {
        if text.is_empty() || text.len() > 19 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        text.parse().ok().filter(|id| *id > 0).map(RunId)
    }
}

/// One of a run's three texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    Stdout,
    Stderr,
    OpError,
}

impl StreamKind {
    pub const ALL: [StreamKind; 3] = [StreamKind::Stdout, StreamKind::Stderr, StreamKind::OpError];

    pub fn parse(segment: &str) -> Option<StreamKind> {
        StreamKind::ALL
            .into_iter()
            .find(|kind| kind.segment() == segment)
    }

    /// Its URL segment.
    pub fn segment(self) -> &'static str {
        match self {
            StreamKind::Stdout => "stdout",
            StreamKind::Stderr => "stderr",
            StreamKind::OpError => "operror",
        }
    }

    /// Its name on a tab.
    pub fn label(self) -> &'static str {
        match self {
            StreamKind::Stdout => "stdout",
            StreamKind::Stderr => "stderr",
            StreamKind::OpError => "op error",
        }
    }

    pub fn to_pb(self) -> pb::OutputStream {
        match self {
            StreamKind::Stdout => pb::OutputStream::Stdout,
            StreamKind::Stderr => pb::OutputStream::Stderr,
            StreamKind::OpError => pb::OutputStream::OpError,
        }
    }
}

/// The state-changing things a task page offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    RunNow,
    Suspend,
    Resume,
    Kill,
}

impl Action {
    pub const ALL: [Action; 4] = [
        Action::RunNow,
        Action::Suspend,
        Action::Resume,
        Action::Kill,
    ];

    pub fn parse(segment: &str) -> Option<Action> {
        Action::ALL
            .into_iter()
            .find(|action| action.segment() == segment)
    }

    /// Its URL segment (POST only).
    pub fn segment(self) -> &'static str {
        match self {
            Action::RunNow => "run",
            Action::Suspend => "suspend",
            Action::Resume => "resume",
            Action::Kill => "kill",
        }
    }

    /// Its button text.
    pub fn label(self) -> &'static str {
        match self {
            Action::RunNow => "Run Now",
            Action::Suspend => "Suspend",
            Action::Resume => "Resume",
            Action::Kill => "Kill",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_names_are_the_daemons_keys_only() {
        for good in [
            "winner",
            "long_runner",
            "cron_failer_",
            "ünïcode_täsk",
            "a1",
            "a.b",
            "nightly_db-dump.v2",
            "version_1.2.",
            "_",
        ] {
            assert!(TaskName::parse(good).is_some(), "{good}");
        }
        let too_long = "a".repeat(201);
        for bad in [
            "", "Winner", "a b", "a/b", "..", ".", ".x", "-x", "a%2Fb", "a\0b", &too_long,
        ] {
            assert!(TaskName::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn run_ids_are_positive_decimal_integers() {
        assert_eq!(RunId::parse("42"), Some(RunId(42)));
        for bad in [
            "",
            "0",
            "-1",
            "+1",
            "1e3",
            "0x10",
            "99999999999999999999",
            " 1",
        ] {
            assert_eq!(RunId::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn segments_round_trip() {
        for kind in StreamKind::ALL {
            assert_eq!(StreamKind::parse(kind.segment()), Some(kind));
        }
        for action in Action::ALL {
            assert_eq!(Action::parse(action.segment()), Some(action));
        }
        assert_eq!(StreamKind::parse("../stdout"), None);
        assert_eq!(Action::parse("delete"), None);
    }
}
