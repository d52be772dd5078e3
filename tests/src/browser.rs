//! A real browser for black-box tests: headless Chromium driven over WebDriver (chromedriver,
//! through fantoccini).
//!
//! Without Chromium the browser tests say so loudly and skip, unless SPEEDRACK_REQUIRE_BROWSER=1
//! (CI sets it), where its absence fails them. chromedriver is started on a free port and
//! waited for by its "started successfully" line, never by sleeping.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use tempfile::TempDir;

use crate::WAIT;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The browser's local zone: UTC+05:30 all year.
pub const BROWSER_ZONE: &str = "Asia/Kolkata";
/// Set to 1 where a missing browser must fail the tests instead of skipping them.
const REQUIRE_ENV: &str = "SPEEDRACK_REQUIRE_BROWSER";

/// Headless Chromium and its driver; both end when this is dropped.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: TempDir,
}

impl Browser {
    /// Starts a browser, or says loudly why not and returns `None` (skip the test).
    pub async fn start() -> Option<Browser> {
        let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
            .into_iter()
            .filter(|path| !Path::new(path).exists())
            .collect();
        if !missing.is_empty() {
            let required = std::env::var(REQUIRE_ENV).is_ok_and(|value| value == "1");
            let message = format!(
                "browser test needs {} (Debian: apt-get install chromium chromium-driver)",
                missing.join(" and ")
            );
            assert!(!required, "{message}; {REQUIRE_ENV}=1 makes this a failure");
            eprintln!("\n*** SKIPPED: {message} ***\n");
            return None;
        }
        let (driver, port) = start_driver();
        let profile = tempfile::tempdir().expect("browser profile dir");
        let args = [
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--window-size=1400,1000".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let capabilities = json!({
            "goog:chromeOptions": { "binary": CHROMIUM, "args": args }
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!("a JSON object literal");
        };
        let mut driver = driver;
        // chromedriver speaks plain HTTP on loopback: no TLS stack (and no system OpenSSL).
        let mut builder = ClientBuilder::new(HttpConnector::new());
        let client = match builder
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => client,
            Err(error) => {
                let _ = driver.kill();
                panic!("cannot start Chromium through chromedriver: {error}");
            }
        };
        Some(Browser {
            client,
            driver,
            _profile: profile,
        })
    }

    /// Saves a screenshot as `target/browser-NAME.png` and returns its path.
    pub async fn screenshot(&self, name: &str) -> Option<PathBuf> {
        let png = self.client.screenshot().await.ok()?;
        let path = target_dir().join(format!("browser-{name}.png"));
        std::fs::write(&path, png).ok()?;
        Some(path)
    }

    /// Runs `steps`; on failure saves a screenshot and the page source under `target/`, then
    /// panics with the error.
    pub async fn check<F, Fut>(self, name: &str, steps: F)
    where
        F: FnOnce(Client) -> Fut,
        Fut: std::future::Future<Output = Result<(), String>>,
    {
        let outcome = steps(self.client.clone()).await;
        if let Err(error) = outcome {
            let shot = self.screenshot(name).await;
            let source = self.client.source().await.unwrap_or_default();
            let source_path = target_dir().join(format!("browser-{name}.html"));
            let _ = std::fs::write(&source_path, source);
            self.close().await;
            panic!(
                "browser test {name} failed: {error}\nscreenshot: {shot:?}, page: {}",
                source_path.display()
            );
        }
        self.close().await;
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// A Chrome DevTools Protocol command, sent through chromedriver (`goog/cdp/execute`).
#[derive(Debug)]
struct Devtools {
    command: &'static str,
    params: serde_json::Value,
}

/// `url::ParseError`, named through reqwest's re-export of `Url`.
type UrlError = <reqwest::Url as std::str::FromStr>::Err;

impl fantoccini::wd::WebDriverCompatibleCommand for Devtools {
    fn endpoint(
        &self,
        base_url: &reqwest::Url,
        session_id: Option<&str>,
    ) -> Result<reqwest::Url, UrlError> {
        let session = session_id.unwrap_or_default();
        base_url.join(&format!("session/{session}/goog/cdp/execute"))
    }

    fn method_and_body(&self, _: &reqwest::Url) -> (reqwest::Method, Option<String>) {
        let body = json!({ "cmd": self.command, "params": self.params });
        (reqwest::Method::POST, Some(body.to_string()))
    }
}

/// Runs a DevTools `command` (e.g. `Page.addScriptToEvaluateOnNewDocument`) in the current tab:
/// what WebDriver cannot do, such as changing what a page sees before its scripts run.
pub async fn devtools(
    client: &Client,
    command: &'static str,
    params: serde_json::Value,
) -> Result<serde_json::Value, fantoccini::error::CmdError> {
    client.issue_cmd(Devtools { command, params }).await
}

/// `target/` of this build (tests run from `target/<profile>/deps/`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary knows its path");
    exe.ancestors()
        .nth(3)
        .map_or_else(std::env::temp_dir, Path::to_path_buf)
}

/// Starts chromedriver on a free port and waits for it to say it listens.
fn start_driver() -> (Child, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let mut driver = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        // Chromium inherits it: a zone that is not UTC, so that "local time" shows as such.
        .env("TZ", BROWSER_ZONE)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let stdout = driver.stdout.take().expect("piped stdout");
    let (ready_tx, ready_rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("started successfully") {
                let _ = ready_tx.send(());
            }
        }
    });
    if ready_rx.recv_timeout(WAIT).is_err() {
        let _ = driver.kill();
        panic!("chromedriver did not start on port {port} within {WAIT:?}");
    }
    (driver, port)
}

/// Waits (at most [`WAIT`]) until `css` matches an element of the page.
pub async fn wait_for(client: &Client, css: &str) -> Result<Element, String> {
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .map_err(|error| format!("waiting for {css}: {error}"))
}

/// Runs `js` in the page and returns the value it returns.
pub async fn script(client: &Client, js: &str) -> Result<serde_json::Value, String> {
    client
        .execute(js, vec![])
        .await
        .map_err(|error| format!("running {js}: {error}"))
}
