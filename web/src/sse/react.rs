//! What one daemon event asks of one browser's page: nothing, a refresh of its live part (of
//! one task, or of everything), or, for the tasks page, the changed task's row.
//!
//! Pure; `relay.rs` acts on the answer (holds rows, fetches their runs, sends).

use speedrack_proto::v1 as pb;
use speedrack_proto::v1::watch_events_response::Event as Watched;

use crate::names::TaskName;
use crate::views;
use crate::views::layout::Chrome;

/// Who listens, and so what they are sent.
pub enum Listener {
    /// Every task, as nudges (the error page, while the daemon is away).
    All,
    /// One task's page: nudges about it only.
    Task(TaskName),
    /// The tasks page: changed rows, rendered.
    TaskRows(RowPage),
}

/// What rendering the tasks page's rows needs from the request that opened the stream.
pub struct RowPage {
    /// The request's chrome, for the rows' links and forms; its clock and prefix are renewed
    /// for each render.
    pub chrome: Chrome,
    /// Rows of inactive tasks are not on the page then.
    pub hide_inactive: bool,
}

/// What one daemon event asks of a listener.
#[derive(Debug, PartialEq)]
pub enum Reaction {
    Nothing,
    /// Fetch the live part again; the data names the task, or is `*` for everything.
    Refresh(String),
    /// As `Refresh`, and a run started: the task page moves on to it.
    Started(String),
    /// Render this row.
    Row(Box<pb::Task>),
}

/// A refresh of everything.
pub const ALL: &str = "*";

pub fn react(message: &pb::WatchEventsResponse, listener: &Listener) -> Reaction {
    let Some(event) = message.event.as_ref() else {
        return Reaction::Nothing;
    };
    let name = match event {
        Watched::RunStarted(run) | Watched::RunFinished(run) => &run.task,
        Watched::TaskChanged(task) => &task.name,
        // Dropped events may have concerned anything: every listener refreshes all it shows.
        Watched::ConfigReloaded(_) | Watched::EventsDropped(_) => {
            return Reaction::Refresh(ALL.to_owned());
        }
    };
    match (listener, event) {
        // A task's own TaskChanged follows each of its runs' starts and ends, with the row.
        (Listener::TaskRows(_), Watched::RunStarted(_) | Watched::RunFinished(_)) => {
            Reaction::Nothing
        }
        (Listener::TaskRows(page), Watched::TaskChanged(task)) => {
            if views::tasks::row_id(name).is_none() {
                Reaction::Refresh(ALL.to_owned())
            } else if page.hide_inactive && task.status() == pb::TaskStatus::Inactive {
                Reaction::Nothing
            } else {
                Reaction::Row(Box::new(task.clone()))
            }
        }
        (Listener::Task(only), _) if only.as_str() != name => Reaction::Nothing,
        (_, Watched::RunStarted(_)) => Reaction::Started(name.clone()),
        _ => Reaction::Refresh(name.clone()),
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use crate::views::layout::tests::chrome;

    pub fn message(event: Watched) -> pb::WatchEventsResponse {
        pb::WatchEventsResponse {
            event: Some(event),
            ..pb::WatchEventsResponse::default()
        }
    }

    fn run(task: &str) -> pb::Run {
        pb::Run {
            task: task.to_owned(),
            ..pb::Run::default()
        }
    }

    pub fn task(name: &str, status: pb::TaskStatus) -> pb::Task {
        pb::Task {
            name: name.to_owned(),
            status: status.into(),
            ..pb::Task::default()
        }
    }

    pub fn rows(hide_inactive: bool) -> Listener {
        Listener::TaskRows(RowPage {
            chrome: chrome(""),
            hide_inactive,
        })
    }

    fn refresh(what: &str) -> Reaction {
        Reaction::Refresh(what.to_owned())
    }

    #[test]
    fn listeners_hear_about_their_task_only() {
        let finished = |name: &str| message(Watched::RunFinished(run(name)));
        let winner = Listener::Task(TaskName::parse("winner").expect("a task name"));
        assert_eq!(react(&finished("winner"), &winner), refresh("winner"));
        assert_eq!(react(&finished("other"), &winner), Reaction::Nothing);
        assert_eq!(react(&finished("other"), &Listener::All), refresh("other"));
        assert_eq!(
            react(&message(Watched::RunStarted(run("winner"))), &winner),
            Reaction::Started("winner".to_owned())
        );
        let reload = message(Watched::ConfigReloaded(pb::ReloadResponse::default()));
        assert_eq!(react(&reload, &winner), refresh(ALL));
        let dropped = message(Watched::EventsDropped(pb::EventsDropped { count: 3 }));
        assert_eq!(react(&dropped, &winner), refresh(ALL));
    }

    #[test]
    fn the_tasks_page_gets_rows_and_refreshes_only_what_moves_rows() {
        let changed = |name: &str, status| message(Watched::TaskChanged(task(name, status)));
        let ok = pb::TaskStatus::Success;
        assert_eq!(
            react(&changed("a", ok), &rows(false)),
            Reaction::Row(Box::new(task("a", ok)))
        );
        assert_eq!(
            react(&message(Watched::RunFinished(run("a"))), &rows(false)),
            Reaction::Nothing,
            "the TaskChanged that follows carries the row"
        );
        let inactive = changed("gone", pb::TaskStatus::Inactive);
        assert_eq!(react(&inactive, &rows(true)), Reaction::Nothing, "hidden");
        assert!(matches!(react(&inactive, &rows(false)), Reaction::Row(_)));
        assert_eq!(
            react(&changed("Not A Name", ok), &rows(false)),
            refresh(ALL),
            "a row without an id cannot be swapped"
        );
        let reload = message(Watched::ConfigReloaded(pb::ReloadResponse::default()));
        assert_eq!(react(&reload, &rows(false)), refresh(ALL));
    }
}
