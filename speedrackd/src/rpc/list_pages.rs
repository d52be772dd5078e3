//! ListTasks' page tokens: where the next page starts, and which configuration the pages before
//! it were read from.
//!
//! A reload may add, remove or reorder tasks between two pages; a token from before it is
//! refused (ABORTED), so a client never stitches two configurations into one list. Tokens are
//! opaque to clients. Cutting pages is `paging`'s business.

use tonic::Status;

use crate::config::TaskName;
use crate::runtime::Snapshot;

/// Where a page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    /// At this index of the tasks file's entries.
    File(usize),
    /// Among the tasks only history knows (sorted by name), after this one, or at the first.
    History(Option<TaskName>),
}

/// Which configuration a listing reads: changes on every reload.
pub fn generation(snapshot: &Snapshot) -> i64 {
    snapshot
        .last_reload_at
        .unwrap_or(snapshot.started_at)
        .timestamp_micros()
}

impl Cursor {
    /// The cursor of `token` (empty: the first page), if it was given out for `generation`.
    pub fn parse(token: &str, generation: i64) -> Result<Cursor, Status> {
        if token.is_empty() {
            return Ok(Cursor::File(0));
        }
        let foreign = || {
            Status::invalid_argument(format!(
                "page token {token:?} is not one this daemon gave out; list again from the \
                 first page"
            ))
        };
        let (given_for, position) = token.split_once(':').ok_or_else(foreign)?;
        if given_for.parse::<i64>().map_err(|_| foreign())? != generation {
            return Err(Status::aborted(
                "the tasks file was reloaded while the task list was read page by page; list \
                 again from the first page",
            ));
        }
        match position.split_at_checked(1) {
            Some(("f", index)) => index.parse().map(Cursor::File).map_err(|_| foreign()),
            Some(("h", "")) => Ok(Cursor::History(None)),
            Some(("h", name)) => TaskName::parse_normalised(name)
                .map(|name| Cursor::History(Some(name)))
                .ok_or_else(foreign),
            _ => Err(foreign()),
        }
    }

    /// The token a client sends back for the page at this cursor.
    pub fn token(&self, generation: i64) -> String {
        match self {
            Cursor::File(index) => format!("{generation}:f{index}"),
            Cursor::History(None) => format!("{generation}:h"),
            Cursor::History(Some(name)) => format!("{generation}:h{name}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use tonic::Code;

    use super::*;

    #[test]
    fn tokens_round_trip_within_one_configuration() {
        let name = TaskName::parse_normalised("old_job").expect("a valid name");
        let cursors = [
            Cursor::File(0),
            Cursor::File(1234),
            Cursor::History(None),
            Cursor::History(Some(name)),
        ];
        for cursor in cursors {
            let token = cursor.token(77);
            assert_eq!(Cursor::parse(&token, 77).expect("valid"), cursor, "{token}");
            let stale = Cursor::parse(&token, 78).expect_err("another configuration");
            assert_eq!(stale.code(), Code::Aborted, "{token}");
        }
        assert_eq!(Cursor::parse("", 5).expect("first page"), Cursor::File(0));
    }

    #[test]
    fn foreign_tokens_are_invalid_arguments() {
        for token in [
            "x",
            "77",
            "77:",
            "77:q1",
            "77:f-1",
            "77:fx",
            "77:hNot A Name",
            "z:f1",
        ] {
            let error = Cursor::parse(token, 77).expect_err(token);
            assert_eq!(error.code(), Code::InvalidArgument, "{token}");
        }
    }
}
