//! The web gateway under test, and an HTTP client that behaves like a browser without scripts.
//!
//! The gateway runs in-process through `speedrack_web::serve`, the very entry point speedrackd
//! hosts, on a free port of 127.0.0.1; `web_binary` builds the standalone `speedrack-web` for
//! the test of the binary itself. The client keeps cookies, never follows redirects (tests look
//! at them), and hands back pages whose HTML tests query with CSS selectors.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{OnceLock, mpsc};

use scraper::{Html, Selector};
use speedrack_web::{GatewayConfig, GatewayError};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::WAIT;

/// A gateway serving on 127.0.0.1; stopped when dropped.
pub struct Gateway {
    address: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), GatewayError>>>,
}

impl Gateway {
    /// Serves the web UI for the daemon at `socket` (which may not exist).
    pub async fn start(socket: &Path) -> Gateway {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a free port");
        let address = listener.local_addr().expect("bound address");
        let (stop, stopped) = oneshot::channel::<()>();
        let config = GatewayConfig {
            socket: socket.to_path_buf(),
            auth: speedrack_web::auth::Auth::None,
            ..GatewayConfig::default()
        };
        let task = tokio::spawn(speedrack_web::serve(config, listener, async move {
            let _ = stopped.await;
        }));
        Gateway {
            address,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// `http://127.0.0.1:PORT` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// A new browser-like client with an empty cookie jar.
    pub fn client(&self) -> WebClient {
        WebClient {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .timeout(WAIT)
                .build()
                .expect("HTTP client"),
            base: self.url(""),
        }
    }

    /// Stops the gateway and waits until it has (open live streams must not hold it up).
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let task = self.task.take().expect("gateway task");
        let result = tokio::time::timeout(WAIT, task)
            .await
            .expect("the gateway stops within the wait");
        result
            .expect("gateway task")
            .expect("gateway served without error");
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Cookies, no redirects, no scripts.
pub struct WebClient {
    pub http: reqwest::Client,
    base: String,
}

impl WebClient {
    /// A client of the gateway at `base` (e.g. `daemon.web_url()`), sending `http`'s defaults
    /// (credentials, headers) with every request; it must keep cookies and not follow redirects.
    pub fn with(base: String, http: reqwest::Client) -> WebClient {
        WebClient { http, base }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// GETs `path` (as routed, without any prefix).
    pub async fn get(&self, path: &str) -> Page {
        let response = self.http.get(self.url(path)).send().await.expect("GET");
        Page::read(response).await
    }

    /// POSTs form `fields` to `path`.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let response = self
            .http
            .post(self.url(path))
            .form(fields)
            .send()
            .await
            .expect("POST");
        Page::read(response).await
    }

    /// Submits the form of `page` that `selector` finds, as a browser would: its action, its
    /// hidden fields, and `fields` on top.
    pub async fn submit(&self, page: &Page, selector: &str, fields: &[(&str, &str)]) -> Page {
        let (action, mut sent) = page.form(selector);
        for (name, value) in fields {
            sent.retain(|(existing, _)| existing != name);
            sent.push(((*name).to_owned(), (*value).to_owned()));
        }
        let pairs: Vec<(&str, &str)> = sent.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        self.post(&action, &pairs).await
    }

    /// Follows a 303 from an action to the page it names.
    pub async fn follow(&self, redirect: &Page) -> Page {
        assert_eq!(
            redirect.status, 303,
            "expected a redirect: {}",
            redirect.body
        );
        let location = redirect.header("location").expect("Location header");
        self.get(&location).await
    }
}

/// A response, read whole.
pub struct Page {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    async fn read(response: reqwest::Response) -> Page {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.expect("response body");
        Page {
            status,
            headers,
            body,
        }
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    }

    fn select<T>(&self, css: &str, each: impl Fn(scraper::ElementRef<'_>) -> T) -> Vec<T> {
        let selector = Selector::parse(css).unwrap_or_else(|_| panic!("bad selector {css}"));
        Html::parse_document(&self.body)
            .select(&selector)
            .map(each)
            .collect()
    }

    /// How many elements match.
    pub fn count(&self, css: &str) -> usize {
        self.select(css, |_| ()).len()
    }

    /// The text of each match, whitespace as in the document.
    pub fn texts(&self, css: &str) -> Vec<String> {
        self.select(css, |element| element.text().collect::<String>())
    }

    /// The text of the first match; panics naming the selector if there is none.
    pub fn text(&self, css: &str) -> String {
        self.texts(css)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("nothing matches {css} in:\n{}", self.body))
    }

    /// The value of `attribute` on each match that has it.
    pub fn attrs(&self, css: &str, attribute: &str) -> Vec<String> {
        self.select(css, |element| {
            element.value().attr(attribute).map(str::to_owned)
        })
        .into_iter()
        .flatten()
        .collect()
    }

    /// Every URL the page makes the browser use: links, assets, form actions, event streams,
    /// live-refresh sources.
    pub fn urls(&self) -> Vec<String> {
        let mut urls = Vec::new();
        for (css, attribute) in [
            ("[href]", "href"),
            ("[src]", "src"),
            ("form[action]", "action"),
            ("[sse-connect]", "sse-connect"),
            ("[hx-get]", "hx-get"),
        ] {
            urls.extend(self.attrs(css, attribute));
        }
        urls
    }

    /// A form's action and its hidden fields.
    pub fn form(&self, css: &str) -> (String, Vec<(String, String)>) {
        let action = self
            .attrs(css, "action")
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no form matches {css} in:\n{}", self.body));
        let names = self.attrs(&format!("{css} input[type=hidden]"), "name");
        let values = self.attrs(&format!("{css} input[type=hidden]"), "value");
        (action, names.into_iter().zip(values).collect())
    }
}

/// The standalone `speedrack-web` binary, built once per test process in the test's profile.
pub fn web_binary() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let exe = std::env::current_exe().expect("the test binary knows its path");
            let profile = exe
                .parent()
                .and_then(Path::parent)
                .expect("test binary lives in target/<profile>/deps")
                .to_path_buf();
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let mut command = Command::new(cargo);
            command.args([
                "build",
                "--quiet",
                "-p",
                "speedrack-web",
                "--bin",
                "speedrack-web",
            ]);
            if profile.file_name().is_some_and(|name| name == "release") {
                command.arg("--release");
            }
            let output = command.output().expect("cargo runs");
            assert!(
                output.status.success(),
                "building speedrack-web failed:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
            profile.join("speedrack-web")
        })
        .clone()
}

/// The standalone `speedrack-web` binary, listening on a free port.
pub struct Standalone {
    child: Option<Child>,
    address: String,
}

impl Standalone {
    /// Starts it for the daemon at `socket` and waits for the line saying where it listens.
    pub fn start(socket: &Path) -> Standalone {
        let mut child = Command::new(web_binary())
            .arg("--socket")
            .arg(socket)
            .args(["--listen", "127.0.0.1:0"])
            .env("NO_COLOR", "1")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("speedrack-web starts");
        let stderr = child.stderr.take().expect("piped stderr");
        let (address_tx, address_rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let address = rest.split_whitespace().next().unwrap_or_default();
                    let _ = address_tx.send(address.to_owned());
                }
            }
        });
        let Ok(address) = address_rx.recv_timeout(WAIT) else {
            let _ = child.kill();
            panic!("speedrack-web did not say where it listens within {WAIT:?}");
        };
        Standalone {
            child: Some(child),
            address,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// SIGTERM, then its exit status (`None` if it had to be killed after the wait).
    pub fn stop(mut self) -> Option<ExitStatus> {
        let mut child = self.child.take().expect("running");
        let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("pid fits"));
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("signal");
        crate::daemon::wait_with_timeout(&mut child, WAIT)
    }
}

impl Drop for Standalone {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The argon2 hash `speedrackd hash-password` prints for `password`, for `web.users`.
pub fn hash_password(password: &str) -> String {
    let mut child = Command::new(crate::binary("speedrackd"))
        .arg("hash-password")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("speedrackd runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{password}\n").as_bytes())
        .expect("write");
    let output = child.wait_with_output().expect("hash-password ends");
    assert!(output.status.success());
    String::from_utf8(output.stdout)
        .expect("utf-8")
        .trim()
        .to_owned()
}
