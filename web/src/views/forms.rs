//! The forms that change state: hidden CSRF field, action buttons disabled with their reason.
//!
//! Which actions apply to a task is decided here, from the task alone, so the task page and the
//! tasks page agree; the daemon still has the last word (a refused action comes back as a flash message).

use maud::{Markup, html};
use speedrack_proto::v1 as pb;

use crate::names::Action;
use crate::views::layout::Chrome;

/// The hidden fields every form carries: the CSRF token and where to come back to.
pub fn hidden(chrome: &Chrome, back: Option<&str>) -> Markup {
    html! {
        input type="hidden" name=(crate::csrf::FIELD) value=(chrome.csrf);
        @if let Some(back) = back {
            input type="hidden" name="back" value=(back);
        }
    }
}

/// `Ok` when the action makes sense for the task now, else why not.
pub fn availability(task: &pb::Task, action: Action) -> Result<(), &'static str> {
    let status = task.status();
    match status {
        pb::TaskStatus::ConfError if action != Action::Kill => {
            return Err("conf error: fix the tasks file and reload");
        }
        pb::TaskStatus::Inactive if action != Action::Kill => {
            return Err("inactive: no longer in the tasks file");
        }
        _ => {}
    }
    let running = status == pb::TaskStatus::Running || !task.running_run_ids.is_empty();
    // Under queue, parallel and replace a manual run is welcome while one runs; the daemon
    // refuses only what its policy refuses (a second queued run), and says so in a flash.
    let refuses_overlap = matches!(task.overlap(), pb::Overlap::Skip | pb::Overlap::Unspecified);
    match action {
        Action::RunNow if running && refuses_overlap => Err("already running"),
        Action::Suspend if task.suspended => Err("already suspended"),
        Action::Resume if !task.suspended => Err("not suspended"),
        Action::Kill if !running => Err("not running"),
        _ => Ok(()),
    }
}

fn button_class(action: Action) -> &'static str {
    match action {
        Action::RunNow => "btn-primary",
        Action::Suspend => "btn-warning",
        Action::Resume => "btn-success",
        Action::Kill => "btn-danger",
    }
}

/// How much an action button says about itself when it is disabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Next to the button, for the task page.
    Shown,
    /// Only as a tooltip, for table rows.
    Tooltip,
}

/// A one-button form posting `action` for `task`, then coming back to `back`.
pub fn action_button(
    chrome: &Chrome,
    task: &pb::Task,
    action: Action,
    back: &str,
    reason_style: Reason,
) -> Markup {
    let available = availability(task, action);
    let reason = available.err();
    html! {
        form.d-inline-block.me-2.mb-1 method="post"
            action=(chrome.urls.action(&task.name, action)) {
            (hidden(chrome, Some(back)))
            button type="submit" class={ "btn btn-sm " (button_class(action)) }
                data-action=(action.segment()) disabled[reason.is_some()] title=[reason] {
                (action.label())
            }
            @if let (Some(reason), Reason::Shown) = (reason, reason_style) {
                small.ms-1.text-body-secondary data-reason { (reason) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;
    use crate::views::snapshot::check;

    fn task(status: pb::TaskStatus, suspended: bool, running: &[i64]) -> pb::Task {
        pb::Task {
            name: "t".to_owned(),
            status: status.into(),
            suspended,
            running_run_ids: running.to_vec(),
            ..pb::Task::default()
        }
    }

    #[test]
    fn which_actions_apply() {
        use Action::*;
        let idle = task(pb::TaskStatus::Success, false, &[]);
        let running = task(pb::TaskStatus::Running, false, &[4]);
        let suspended = task(pb::TaskStatus::Suspended, true, &[]);
        let broken = task(pb::TaskStatus::ConfError, false, &[]);
        let gone = task(pb::TaskStatus::Inactive, false, &[]);
        let cases = [
            (
                &idle,
                [Ok(()), Ok(()), Err("not suspended"), Err("not running")],
            ),
            (
                &running,
                [Err("already running"), Ok(()), Err("not suspended"), Ok(())],
            ),
            (
                &suspended,
                [Ok(()), Err("already suspended"), Ok(()), Err("not running")],
            ),
        ];
        for (task, expected) in cases {
            for (action, want) in Action::ALL.into_iter().zip(expected) {
                assert_eq!(
                    availability(task, action),
                    want,
                    "{:?} {action:?}",
                    task.status()
                );
            }
        }
        for (overlap, allowed) in [
            (pb::Overlap::Skip, false),
            (pb::Overlap::Queue, true),
            (pb::Overlap::Parallel, true),
            (pb::Overlap::Replace, true),
        ] {
            let running = pb::Task {
                overlap: overlap.into(),
                ..running.clone()
            };
            assert_eq!(
                availability(&running, RunNow).is_ok(),
                allowed,
                "{overlap:?}"
            );
        }
        for action in [RunNow, Suspend, Resume] {
            assert!(availability(&broken, action).is_err_and(|r| r.starts_with("conf error")));
            assert!(availability(&gone, action).is_err_and(|r| r.starts_with("inactive")));
        }
    }

    #[test]
    fn a_disabled_button_says_why() {
        let chrome = crate::views::layout::tests::chrome("");
        let running = task(pb::TaskStatus::Running, false, &[4]);
        let button = action_button(&chrome, &running, Action::RunNow, "/", Reason::Shown);
        check(
            &button,
            expect![[r#"
                <form class="d-inline-block me-2 mb-1" method="post" action="/tasks/t/run">
                <input type="hidden" name="csrf" value="t0k3n">
                <input type="hidden" name="back" value="/">
                <button type="submit" class="btn btn-sm btn-primary" data-action="run" disabled title="already running">Run Now</button>
                <small class="ms-1 text-body-secondary" data-reason>already running</small>
                </form>
            "#]],
        );
    }
}
