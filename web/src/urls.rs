//! Every URL the gateway puts into a page, a form, a header or a cookie path.
//!
//! All of them carry the `script_name` prefix (seed SCRIPT_NAME), while requests are still
//! routed at the root: a reverse proxy strips the prefix. Building URLs only here is what makes
//! "every link carries the prefix" true by construction. Path segments and query values are
//! percent-encoded here too; nothing here reads a URL.

use crate::names::{Action, StreamKind};

/// URL builder for one request, with the prefix in effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Urls {
    prefix: String,
}

impl Urls {
    /// Urls under `script_name` ("" or "/speedrack"; a trailing `/` is ignored).
    pub fn new(script_name: &str) -> Urls {
        Urls {
            prefix: script_name.trim_end_matches('/').to_owned(),
        }
    }

    /// `path` (starting with `/`, as routed at the root) under the prefix.
    pub fn path(&self, path: &str) -> String {
        format!("{}{path}", self.prefix)
    }

    /// The Path attribute for the gateway's cookies.
    pub fn cookie_path(&self) -> String {
        if self.prefix.is_empty() {
            "/".to_owned()
        } else {
            self.prefix.clone()
        }
    }

    pub fn tasks(&self) -> String {
        self.path("/")
    }

    pub fn task(&self, task: &str) -> String {
        self.path(&format!("/tasks/{}", encode(task)))
    }

    /// The whole history of a task, one page at a time (`page` is the API's page token).
    pub fn history(&self, task: &str, page: Option<&str>) -> String {
        let base = self.path(&format!("/tasks/{}/runs", encode(task)));
        match page {
            Some(token) => format!("{base}?page={}", encode(token)),
            None => base,
        }
    }

    /// A task's history with a query string (`history_query`) already encoded; "" for none.
    pub fn history_query(&self, task: &str, query: &str) -> String {
        let base = self.history(task, None);
        if query.is_empty() {
            base
        } else {
            format!("{base}?{query}")
        }
    }

    /// The search of a task's retained output, for `text` when given.
    pub fn search(&self, task: &str, text: Option<&str>) -> String {
        let base = self.path(&format!("/tasks/{}/search", encode(task)));
        match text {
            Some(text) => format!("{base}?q={}", encode(text)),
            None => base,
        }
    }

    pub fn run(&self, task: &str, run: i64) -> String {
        self.path(&format!("/tasks/{}/runs/{run}", encode(task)))
    }

    /// The whole output file of one stream, as plain text.
    pub fn file(&self, task: &str, run: i64, stream: StreamKind) -> String {
        self.path(&format!(
            "/tasks/{}/runs/{run}/{}",
            encode(task),
            stream.segment()
        ))
    }

    /// The live tail (SSE) of a running run, from these offsets; `None` leaves a stream out.
    pub fn tail(&self, task: &str, run: i64, stdout: Option<u64>, stderr: Option<u64>) -> String {
        let mut query = Vec::new();
        if let Some(offset) = stdout {
            query.push(format!("out={offset}"));
        }
        if let Some(offset) = stderr {
            query.push(format!("err={offset}"));
        }
        self.path(&format!(
            "/tasks/{}/runs/{run}/tail?{}",
            encode(task),
            query.join("&")
        ))
    }

    pub fn action(&self, task: &str, action: Action) -> String {
        self.path(&format!("/tasks/{}/{}", encode(task), action.segment()))
    }

    /// The live event stream (SSE), all tasks or one.
    pub fn events(&self, task: Option<&str>) -> String {
        match task {
            Some(task) => self.path(&format!("/events?task={}", encode(task))),
            None => self.path("/events"),
        }
    }

    /// The tasks page's event stream: changed rows, rendered (see `sse/relay.rs`).
    pub fn task_rows_events(&self) -> String {
        self.path("/events?rows=tasks")
    }

    /// Every live stream of one browser on one connection (see `sse/live.rs`).
    pub fn live(&self) -> String {
        self.path("/live")
    }

    pub fn config(&self) -> String {
        self.path("/config")
    }

    pub fn nodes(&self) -> String {
        self.path("/nodes")
    }

    pub fn reload(&self) -> String {
        self.path("/reload")
    }

    pub fn help(&self) -> String {
        self.path("/help")
    }

    /// Where the "you are" form posts.
    pub fn you(&self) -> String {
        self.path("/you")
    }

    /// Where the UTC/local switch posts.
    pub fn times(&self) -> String {
        self.path("/prefs/times")
    }

    /// Where the "hide inactive tasks" toggle posts.
    pub fn hide_inactive(&self) -> String {
        self.path("/prefs/inactive")
    }

    /// A favicon (see `views/favicon.rs`).
    pub fn favicon(&self, icon: crate::views::favicon::Icon) -> String {
        self.path(&format!("/favicon/{}", icon.file()))
    }

    /// The tasks list filtered and sorted as `view` says (see `views/triage.rs`).
    pub fn tasks_view(&self, view: crate::views::triage::View) -> String {
        let show = view.filter.map(|filter| ("show", filter.slug()));
        let sort = view.sort.slug().map(|sort| ("sort", sort));
        let query: Vec<String> = [show, sort]
            .into_iter()
            .flatten()
            .map(|(key, value)| format!("{key}={}", encode(value)))
            .collect();
        if query.is_empty() {
            self.tasks()
        } else {
            format!("{}?{}", self.tasks(), query.join("&"))
        }
    }

    /// A vendored asset by file name, versioned by its content hash.
    pub fn asset(&self, file: &str) -> String {
        self.path(&crate::assets::versioned_path(file))
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes (and `+` as a space when `plus_is_space`, as in form bodies);
/// `None` for a broken escape or bytes that are not UTF-8.
pub fn decode(text: &str, plus_is_space: bool) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        match byte {
            b'%' => {
                let hex = bytes.get(index + 1..index + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                index += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                index += 1;
            }
            _ => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// A path to send the browser back to after a form, when it is one of ours: it must start with
/// a single `/` (no scheme, no `//host`, no backslash tricks), so it can never leave the site.
/// No control character either: browsers drop TAB, CR and LF from a URL wherever they are
/// (`/\t/evil.example` is `//evil.example`), and none belongs in a path of ours.
pub fn local_path(candidate: &str) -> Option<&str> {
    let safe = candidate.starts_with('/')
        && !candidate.starts_with("//")
        && !candidate.contains('\\')
        && !candidate.chars().any(char::is_control)
        && candidate.len() <= 2048;
    safe.then_some(candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_url_carries_the_prefix() {
        let urls = Urls::new("/sr");
        let built = [
            urls.tasks(),
            urls.task("winner"),
            urls.history("winner", Some("12")),
            urls.run("winner", 3),
            urls.file("winner", 3, StreamKind::Stderr),
            urls.tail("winner", 3, Some(5), None),
            urls.action("winner", Action::RunNow),
            urls.events(Some("winner")),
            urls.task_rows_events(),
            urls.config(),
            urls.reload(),
            urls.help(),
            urls.you(),
            urls.hide_inactive(),
            urls.live(),
            urls.times(),
            urls.asset("bootstrap.min.css"),
        ];
        for url in built {
            assert!(url.starts_with("/sr/"), "{url}");
        }
        assert_eq!(urls.cookie_path(), "/sr");
    }

    #[test]
    fn no_prefix_means_root() {
        let urls = Urls::new("");
        assert_eq!(urls.tasks(), "/");
        assert_eq!(urls.task("a_b"), "/tasks/a_b");
        assert_eq!(urls.cookie_path(), "/");
        assert_eq!(Urls::new("/x/").tasks(), "/x/");
    }

    #[test]
    fn names_are_percent_encoded() {
        let urls = Urls::new("");
        assert_eq!(urls.task("ünï"), "/tasks/%C3%BCn%C3%AF");
        assert_eq!(urls.task("a/../b"), "/tasks/a%2F..%2Fb");
        assert_eq!(urls.run("x", 7), "/tasks/x/runs/7");
        assert_eq!(
            urls.file("x", 7, StreamKind::OpError),
            "/tasks/x/runs/7/operror"
        );
        assert_eq!(
            urls.tail("x", 7, Some(1), Some(2)),
            "/tasks/x/runs/7/tail?out=1&err=2"
        );
    }

    #[test]
    fn decode_reverses_encode() {
        for text in ["plain", "with space", "ünï/../<b>", "100%"] {
            assert_eq!(decode(&encode(text), false).as_deref(), Some(text));
        }
        assert_eq!(decode("a+b", true).as_deref(), Some("a b"));
        assert_eq!(decode("a+b", false).as_deref(), Some("a+b"));
        assert_eq!(decode("%zz", false), None);
        assert_eq!(decode("%4", false), None);
        assert_eq!(decode("%FF", false), None);
    }

    #[test]
    fn control_characters_are_no_local_path() {
        // Browsers drop TAB, CR and LF from URLs, so `/\t/evil.example` is `//evil.example`.
        for bad in [
            "/\t/evil.example",
            "/\t\t/evil.example",
            "/\u{b}/evil.example",
            "/\u{0}/evil.example",
            "/x\u{7f}",
            "/x\u{85}",
        ] {
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
        assert_eq!(local_path("/tasks/a b"), Some("/tasks/a b"));
    }

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(local_path("/tasks/x"), Some("/tasks/x"));
        for bad in [
            "//evil.example/",
            "https://evil.example/",
            "/\\evil",
            "tasks",
            "",
        ] {
            assert_eq!(local_path(bad), None, "{bad}");
        }
    }
}
