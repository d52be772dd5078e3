//! The web gateway under abuse cannot starve the scheduler nor let strangers in: slow and idle
//! connections are closed and capped within an fd budget, password guessing is throttled,
//! a proxy header is believed only from trusted proxies, forged forms change nothing, and the
//! config page shows the settings file without its secrets.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};
use speedrack_proto::v1::RunStatus;
use speedrack_tests::web::{WebClient, hash_password};
use speedrack_tests::{Daemon, DaemonBuilder, WAIT};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// The daemon's open-file limit in the flood test: far below what the flood would take.
const FD_LIMIT: u64 = 256;
/// Connections the flood opens: more than the daemon could hold at [`FD_LIMIT`].
const FLOOD: usize = 300;
const HEADER_TIMEOUT: Duration = Duration::from_secs(6);

/// `http://127.0.0.1:PORT` as `127.0.0.1:PORT`.
fn address(daemon: &Daemon) -> String {
    daemon.web_url().trim_start_matches("http://").to_owned()
}

/// A slowloris: starts a request and sends one more header line every half second, never
/// finishing; returns how long after `opened` the server closed the connection.
async fn trickle(mut stream: TcpStream, opened: Instant) -> Duration {
    if stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
        .await
        .is_err()
    {
        return opened.elapsed();
    }
    let mut ticker = tokio::time::interval(Duration::from_millis(500));
    let mut buffer = [0_u8; 512];
    loop {
        tokio::select! {
            read = stream.read(&mut buffer) => match read {
                Ok(0) | Err(_) => return opened.elapsed(),
                Ok(_) => {}
            },
            _ = ticker.tick() => {
                if stream.write_all(b"X-Trickle: 1\r\n").await.is_err() {
                    return opened.elapsed();
                }
            }
        }
    }
}

/// What a connection beyond the cap reads until the server closes it; `None` if it is still
/// open after a few seconds.
async fn read_to_close(mut stream: TcpStream) -> Option<String> {
    let _ = stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await;
    let mut seen = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut seen)).await;
    read.ok()
        .map(|_| String::from_utf8_lossy(&seen).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_connections_are_closed_capped_and_never_starve_runs() {
    let daemon = DaemonBuilder::new(
        "tasks:\n  - {name: tick, command: 'cat /etc/hostname', interval: 1s}\n",
    )
    .settings(&format!(
        "web:\n  header_timeout: {}s\n",
        HEADER_TIMEOUT.as_secs()
    ))
    .fd_limit(FD_LIMIT)
    .start();
    let mut events = daemon.watch().await;
    let cap = speedrack_web::limits::connection_cap(FD_LIMIT, 256).expect("room for the web");
    let address = address(&daemon);

    let mut held = Vec::new();
    let mut over = Vec::new();
    for n in 0..FLOOD {
        let stream = TcpStream::connect(&address).await.expect("connect");
        if n < cap {
            held.push(tokio::spawn(trickle(stream, Instant::now())));
        } else {
            over.push(tokio::spawn(read_to_close(stream)));
        }
    }

    // Runs keep starting and succeeding while the flood is on.
    for _ in 0..3 {
        let run = events
            .run_finished("tick", WAIT)
            .await
            .expect("tick keeps firing during the flood");
        assert_eq!(
            run.status,
            RunStatus::Success as i32,
            "a run failed during the flood: {}",
            run.op_error
        );
    }

    // Beyond the cap: 503, and closed; none is held.
    let mut answers = Vec::new();
    for reader in over {
        answers.push(reader.await.expect("reader").expect("closed at once"));
    }
    assert!(
        answers[0].starts_with("HTTP/1.1 503") && answers[0].contains("Retry-After:"),
        "the first connection over the cap is told to come back: {:?}",
        answers[0]
    );

    // Within the cap: closed once the header timeout is up, trickle as they may.
    for slow in held {
        let closed_after = tokio::time::timeout(WAIT, slow)
            .await
            .expect("slow connections are closed within the wait")
            .expect("trickle");
        assert!(
            closed_after >= HEADER_TIMEOUT - Duration::from_secs(1)
                && closed_after < HEADER_TIMEOUT + Duration::from_secs(5),
            "closed after {closed_after:?}, header timeout {HEADER_TIMEOUT:?}"
        );
    }
    let after = daemon.ctl().json(&["runs", "tick"]);
    assert!(
        !after.to_string().contains("Too many open files"),
        "no run lacked descriptors: {after}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_kept_alive_connection_is_closed() {
    let daemon = DaemonBuilder::new("tasks: []\n")
        .settings("web:\n  header_timeout: 2s\n")
        .start();
    let mut stream = TcpStream::connect(address(&daemon)).await.expect("connect");
    stream
        .write_all(b"GET /favicon.ico HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .expect("request");
    let mut buffer = [0_u8; 4096];
    let read = stream.read(&mut buffer).await.expect("response");
    let answered = Instant::now();
    assert!(String::from_utf8_lossy(&buffer[..read]).starts_with("HTTP/1.1 200"));
    let rest = tokio::time::timeout(WAIT, stream.read(&mut buffer))
        .await
        .expect("the idle connection is closed within the wait");
    assert!(matches!(rest, Ok(0) | Err(_)), "{rest:?}");
    assert!(answered.elapsed() >= Duration::from_millis(1500));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_guessing_is_throttled_and_logged() {
    let settings = format!(
        "web:\n  auth: basic\n  users:\n    alice: '{}'\n    bob: '{}'\n",
        hash_password("alice's secret"),
        hash_password("bob's secret")
    );
    let daemon = DaemonBuilder::new("tasks: []\n")
        .settings(&settings)
        .start();
    let http = reqwest::Client::new();
    let sign_in = async |user: &str, password: &str| {
        http.get(daemon.web_url())
            .basic_auth(user, Some(password))
            .send()
            .await
            .expect("answer")
    };
    let mut statuses = Vec::new();
    for n in 0..8 {
        statuses.push(sign_in("alice", &format!("guess {n}")).await.status());
    }
    assert_eq!(statuses[..5], [401; 5], "{statuses:?}");
    assert_eq!(statuses[5..], [429; 3], "{statuses:?}");
    let locked = sign_in("alice", "alice's secret").await;
    assert_eq!(
        locked.status(),
        429,
        "while locked, even the right password is not checked"
    );
    let retry_after: u64 = locked.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(
        sign_in("bob", "bob's secret").await.status(),
        200,
        "another user from the same address signs in"
    );
    let log = daemon.log_text();
    assert_eq!(
        log.matches("web sign-in failed").count(),
        5,
        "each failure checked is logged:\n{log}"
    );
    assert!(log.contains("web sign-in locked"), "{log}");
}

#[tokio::test]
async fn the_config_page_shows_the_settings_file_without_its_secrets() {
    let hash = hash_password("alice's secret");
    let settings = format!(
        "app_name: Shown Name\nsentry_dsn: http://dsnkey@127.0.0.1:9/42\nnotify:\n  webhooks: ['http://127.0.0.1:9/hook?token=hooktoken']\n  retries: 0\nweb:\n  auth: basic\n  users:\n    alice: '{hash}'\n"
    );
    let daemon = DaemonBuilder::new("tasks: []\n")
        .settings(&settings)
        .start();
    let page = reqwest::Client::new()
        .get(format!("{}/config", daemon.web_url()))
        .basic_auth("alice", Some("alice's secret"))
        .send()
        .await
        .expect("answer")
        .text()
        .await
        .expect("the page");
    assert!(page.contains("Shown Name"), "{page}");
    assert!(page.contains("sentry_dsn: (redacted)"), "{page}");
    for secret in ["dsnkey", "hooktoken", hash.as_str(), "$argon2"] {
        assert!(!page.contains(secret), "{secret} shown:\n{page}");
    }
}

fn proxied(daemon: &Daemon, user: &'static str) -> WebClient {
    let mut headers = HeaderMap::new();
    headers.insert("x-forwarded-user", HeaderValue::from_static(user));
    let http = reqwest::Client::builder()
        .default_headers(headers)
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    WebClient::with(daemon.web_url(), http)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_header_is_believed_only_from_trusted_proxies() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("tasks.yaml"), "tasks: []\n").expect("write");
    let settings = dir.path().join("settings.yaml");
    std::fs::write(&settings, "web: {auth: proxy_header}\n").expect("write");
    let refusal = Daemon::refusal(Daemon::command_listening(
        dir.path(),
        Some(&settings),
        "0.0.0.0:0",
    ));
    assert!(refusal.contains("web.trusted_proxies"), "{refusal}");

    let elsewhere = DaemonBuilder::new("tasks: []\n")
        .settings("web: {auth: proxy_header, trusted_proxies: ['10.0.0.0/8']}\n")
        .start();
    let page = proxied(&elsewhere, "admin").get("/").await;
    assert_eq!(page.status, 403, "{}", page.body);
    assert!(page.body.contains("trusted_proxies"), "{}", page.body);

    let local = DaemonBuilder::new("tasks: []\n")
        .settings("web: {auth: proxy_header, trusted_proxies: [127.0.0.1]}\n")
        .start();
    let page = proxied(&local, "admin").get("/").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("admin"), "the proxy's user is signed in");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_forms_change_nothing_and_real_ones_work() {
    let daemon = Daemon::start("tasks:\n  - {name: target, command: 'true', interval: 400w}\n");
    let planted = "ab".repeat(32);
    let forge = |origin: Option<&str>| {
        let mut request = reqwest::Client::new()
            .post(format!("{}/tasks/target/suspend", daemon.web_url()))
            .header("cookie", format!("speedrack_csrf={planted}"))
            .form(&[("csrf", planted.as_str())]);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send()
    };
    assert_eq!(
        forge(Some("http://evil.example"))
            .await
            .expect("answer")
            .status(),
        403,
        "the attack of the report"
    );
    assert_eq!(
        forge(None).await.expect("answer").status(),
        403,
        "a planted cookie with a matching field is no token"
    );
    let suspended = || daemon.ctl().json(&["tasks"])["tasks"][0]["suspended"].clone();
    assert_eq!(suspended(), false);

    // A browser's own form, same origin, still works.
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let client = WebClient::with(daemon.web_url(), http);
    let page = client.get("/tasks/target").await;
    let (action, fields) = page.form("form[action='/tasks/target/suspend']");
    let sent = client
        .http
        .post(client.url(&action))
        .header("origin", daemon.web_url())
        .header("sec-fetch-site", "same-origin")
        .form(&fields)
        .send()
        .await
        .expect("POST");
    assert_eq!(sent.status(), 303);
    assert_eq!(suspended(), true);
    let key = daemon.data_dir().join("web_csrf_key");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&key)
            .expect("the key is kept")
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600, "{}", key.display());
}

/// The daemon started with `key` as its CSRF key file (mode `mode`): the scheduler runs.
fn start_with_key_file(key: &str, mode: u32) -> Daemon {
    let builder = DaemonBuilder::new("tasks:\n  - {name: tick, command: 'true', interval: 1h}\n");
    std::fs::create_dir_all(builder.data_dir()).expect("data dir");
    let path = builder.data_dir().join("web_csrf_key");
    std::fs::write(&path, key).expect("write key");
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(mode))
        .expect("chmod");
    let daemon = builder.start();
    assert_eq!(
        daemon.ctl().json(&["tasks"])["tasks"][0]["name"],
        "tick",
        "the scheduler serves its socket"
    );
    daemon
}

#[tokio::test]
async fn a_broken_csrf_key_file_leaves_the_scheduler_and_the_ui_running() {
    let daemon = start_with_key_file("", 0o600);
    assert!(
        daemon.log_text().contains("key held in memory"),
        "{}",
        daemon.log_text()
    );
    let page = WebClient::with(daemon.web_url(), reqwest::Client::new())
        .get("/")
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
}

#[tokio::test]
async fn a_csrf_key_file_others_may_read_turns_off_the_ui_only() {
    let daemon = start_with_key_file(&"ab".repeat(32), 0o644);
    let log = daemon.log_text();
    assert!(log.contains("chmod 600"), "{log}");
    assert!(log.contains("the web UI stays off"), "{log}");
    assert!(!log.contains("web UI on http://"), "{log}");
}
