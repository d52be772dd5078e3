//! What a notification says, in each channel's form: mail subject and bodies, the webhook's
//! JSON document. Pure functions of the run and a little context.

use chrono::SecondsFormat;
use serde_json::json;

use super::decision::Alert;
use super::human_duration::human_duration;
use crate::history::output::Stream;
use crate::run::{Exit, RunEnd, RunRecord};

/// Bytes of output quoted in a notification.
pub const EXCERPT_BYTES: usize = 2000;

/// Everything a notification is made of.
#[derive(Debug, Clone)]
pub struct Notice {
    pub app_name: String,
    /// The machine the daemon runs on, since one inbox often gets mail from many.
    pub host: String,
    pub alert: Alert,
    pub run: RunRecord,
    /// How the run ended.
    pub end: RunEnd,
    /// Link to the run page, when `email_url_prefix` is set.
    pub link: Option<String>,
    /// The first bytes of stderr, or of stdout when stderr is empty.
    pub excerpt: String,
    /// Which stream the excerpt is from; `None` for text that is not a run's output.
    pub excerpt_stream: Option<Stream>,
}

/// `PREFIX/tasks/KEY/runs/ID`, or `None` without a prefix. The prefix is the web UI's external
/// root URL, sub-path included (`http://example.com/speedrack`), as Speedrack 0.6.1's
/// `EMAIL_URL_PREFIX` was: `script_name` is already in it, so it is not added again.
pub fn run_link(url_prefix: &str, run: &RunRecord) -> Option<String> {
    let root = url_prefix.trim_end_matches('/');
    (!root.is_empty()).then(|| {
        format!(
            "{root}/tasks/{}/runs/{}",
            path_segment(run.task.as_str()),
            run.id
        )
    })
}

/// A key as one URL path segment: keys are letters, digits, `_`, `-` and `.`, so only letters
/// beyond ASCII need escaping.
fn path_segment(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for byte in key.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'.') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

pub fn subject(notice: &Notice) -> String {
    format!(
        "[{}] {} {} on {}",
        notice.app_name,
        notice.run.task,
        notice.alert.word(),
        notice.host
    )
}

fn exit_text(end: &RunEnd) -> String {
    match end.exit {
        Some(Exit::Code(code)) => format!("exit status {code}"),
        Some(Exit::Signal(signal)) => format!("killed by signal {signal}"),
        None => "unknown".to_owned(),
    }
}

fn duration_text(run: &RunRecord, end: &RunEnd) -> String {
    human_duration(
        (end.finished_at - run.started_at)
            .to_std()
            .unwrap_or_default(),
    )
}

/// What the excerpt is introduced with: `Output (stderr):`.
fn excerpt_label(notice: &Notice) -> &'static str {
    match notice.excerpt_stream {
        Some(Stream::Stdout) => "Output (stdout):",
        Some(Stream::Stderr) => "Output (stderr):",
        None => "Message:",
    }
}

fn facts(notice: &Notice) -> Vec<(&'static str, String)> {
    let (run, end) = (&notice.run, &notice.end);
    let mut facts = vec![
        ("Task", run.task.to_string()),
        ("Host", notice.host.clone()),
        ("Status", end.status.as_str().to_owned()),
        (
            "Reason",
            if end.reason.is_empty() {
                "-".to_owned()
            } else {
                end.reason.clone()
            },
        ),
        ("Exit", exit_text(end)),
        ("Duration", duration_text(run, end)),
        (
            "Started",
            run.started_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        ),
        ("Run", run.id.to_string()),
    ];
    if !end.op_error.is_empty() {
        facts.push(("Speedrack says", end.op_error.clone()));
    }
    if let Some(link) = &notice.link {
        facts.push(("Link", link.clone()));
    }
    facts
}

pub fn text_body(notice: &Notice) -> String {
    let mut body: String = facts(notice)
        .iter()
        .map(|(name, value)| format!("{name}: {value}\n"))
        .collect();
    if !notice.excerpt.is_empty() {
        body.push('\n');
        body.push_str(excerpt_label(notice));
        body.push('\n');
        body.push_str(&notice.excerpt);
        body.push('\n');
    }
    body
}

pub fn html_body(notice: &Notice) -> String {
    let rows: String = facts(notice)
        .iter()
        .map(|(name, value)| {
            format!(
                "<tr><th align=\"left\">{name}</th><td>{}</td></tr>",
                escape(value)
            )
        })
        .collect();
    let link = notice.link.as_ref().map_or_else(String::new, |link| {
        format!("<p><a href=\"{}\">Open the run</a></p>", escape(link))
    });
    if notice.excerpt.is_empty() {
        return format!("<table>{rows}</table>{link}");
    }
    format!(
        "<table>{rows}</table>{link}<p>{}</p><pre>{}</pre>",
        excerpt_label(notice),
        escape(&notice.excerpt)
    )
}

/// The webhook document; `text` makes it a valid Slack message as it is.
pub fn webhook_json(notice: &Notice) -> serde_json::Value {
    let (run, end) = (&notice.run, &notice.end);
    let (exit_code, signal) = match end.exit {
        Some(Exit::Code(code)) => (Some(code), None),
        Some(Exit::Signal(signal)) => (None, Some(signal)),
        None => (None, None),
    };
    let link_part = notice
        .link
        .as_ref()
        .map_or_else(String::new, |link| format!(" <{link}|run {}>", run.id));
    let reason_part = if end.reason.is_empty() {
        String::new()
    } else {
        format!(": {}", end.reason)
    };
    json!({
        "text": format!("{}{reason_part}{link_part}", subject(notice)),
        "app": notice.app_name,
        "host": notice.host,
        "task": run.task.as_str(),
        "state": notice.alert.word(),
        "status": end.status.as_str(),
        "reason": end.reason,
        "run_id": run.id.0,
        "scheduled_at": run.scheduled_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        "started_at": run.started_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        "finished_at": end.finished_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        "exit_code": exit_code,
        "signal": signal,
        "link": notice.link,
        "output_excerpt": notice.excerpt,
    })
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::config::TaskName;
    use crate::run::RunStatus;

    fn notice() -> Notice {
        let at = Utc
            .with_ymd_and_hms(2026, 11, 29, 12, 0, 0)
            .single()
            .expect("instant");
        let end = RunEnd {
            finished_at: at + chrono::Duration::seconds(3),
            exit: Some(Exit::Code(2)),
            status: RunStatus::Failure,
            stderr_bytes: 9,
            reason: "exit status 2".into(),
            ..RunEnd::default()
        };
        let run = RunRecord {
            end: Some(end.clone()),
            ..RunRecord::scheduled(7, "backup", at)
        };
        let link = run_link("https://cron.example.org/speedrack", &run);
        Notice {
            app_name: "Speedrack".into(),
            host: "cron1.example.org".into(),
            alert: Alert::Failed,
            run,
            end,
            link,
            excerpt: "<b>disk</b>".into(),
            excerpt_stream: Some(Stream::Stderr),
        }
    }

    #[test]
    fn says_what_happened_with_a_prefixed_link() {
        let notice = notice();
        assert_eq!(
            subject(&notice),
            "[Speedrack] backup failed on cron1.example.org"
        );
        assert_eq!(
            notice.link.as_deref(),
            Some("https://cron.example.org/speedrack/tasks/backup/runs/7")
        );
        let text = text_body(&notice);
        assert!(
            text.contains("Reason: exit status 2\n")
                && text.contains("Duration: 3 s\n")
                && text.contains("Host: cron1.example.org\n"),
            "{text}"
        );
        assert!(text.ends_with("Output (stderr):\n<b>disk</b>\n"), "{text}");
        let html = html_body(&notice);
        assert!(
            html.contains("<p>Output (stderr):</p><pre>&lt;b&gt;disk&lt;/b&gt;</pre>"),
            "output is labelled and escaped in HTML: {html}"
        );
        let json = webhook_json(&notice);
        assert_eq!(
            json["text"],
            "[Speedrack] backup failed on cron1.example.org: exit status 2 <https://cron.example.org/speedrack/tasks/backup/runs/7|run 7>"
        );
        assert_eq!(
            (json["exit_code"].as_i64(), json["state"].as_str()),
            (Some(2), Some("failed"))
        );
    }

    #[test]
    fn the_label_names_the_stream_and_no_output_has_none() {
        let mut notice = notice();
        notice.excerpt_stream = Some(Stream::Stdout);
        assert!(text_body(&notice).ends_with("Output (stdout):\n<b>disk</b>\n"));
        notice.excerpt.clear();
        assert!(!text_body(&notice).contains("Output"));
        assert!(!html_body(&notice).contains("<pre>"));
    }

    #[test]
    fn no_prefix_no_link() {
        assert_eq!(run_link("", &notice().run), None);
        assert_eq!(run_link("/", &notice().run), None);
    }

    #[test]
    fn the_prefix_is_the_root_with_its_sub_path_and_is_not_repeated() {
        let mut run = notice().run;
        for prefix in [
            "http://example.com/speedrack",
            "http://example.com/speedrack/",
        ] {
            assert_eq!(
                run_link(prefix, &run).as_deref(),
                Some("http://example.com/speedrack/tasks/backup/runs/7"),
                "{prefix}"
            );
        }
        assert_eq!(
            run_link("http://example.com", &run).as_deref(),
            Some("http://example.com/tasks/backup/runs/7")
        );
        run.task = TaskName::normalise("Nightly DB-dump.v2 (Tägl.)!").expect("name");
        assert_eq!(
            run_link("http://example.com/speedrack", &run).as_deref(),
            Some("http://example.com/speedrack/tasks/nightly_db-dump.v2_t%C3%A4gl./runs/7")
        );
    }
}
