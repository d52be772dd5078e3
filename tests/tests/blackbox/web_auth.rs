//! Web authentication: basic with argon2 hashes, or a trusted proxy header; the signed-in user
//! is who the daemon records; without authentication, loopback only.

use std::process::Stdio;

use reqwest::header::{HeaderMap, HeaderValue};
use speedrack_tests::web::{WebClient, hash_password};
use speedrack_tests::{Daemon, DaemonBuilder, WAIT};

fn client(base: String, headers: HeaderMap) -> WebClient {
    let http = reqwest::Client::builder()
        .default_headers(headers)
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    WebClient::with(base, http)
}

#[tokio::test]
async fn basic_authentication_admits_known_users_and_records_them() {
    let hash = hash_password("s3cret pass");
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    let settings = format!("web:\n  auth: basic\n  users:\n    alice: '{hash}'\n");
    let daemon =
        DaemonBuilder::new("tasks:\n  - {name: guarded, command: 'true', interval: 400w}\n")
            .settings(&settings)
            .start();

    let anonymous = reqwest::get(daemon.web_url()).await.expect("answer");
    assert_eq!(anonymous.status(), 401);
    assert!(
        anonymous
            .headers()
            .get("www-authenticate")
            .is_some_and(|v| v.to_str().unwrap_or("").starts_with("Basic"))
    );
    let mut wrong = HeaderMap::new();
    wrong.insert(
        "authorization",
        HeaderValue::from_static("Basic YWxpY2U6d3Jvbmc="),
    ); // alice:wrong
    assert_eq!(client(daemon.web_url(), wrong).get("/").await.status, 401);

    let mut right = HeaderMap::new();
    right.insert(
        "authorization",
        HeaderValue::from_static("Basic YWxpY2U6czNjcmV0IHBhc3M="),
    ); // alice:s3cret pass
    let web = client(daemon.web_url(), right);
    let page = web.get("/tasks/guarded").await;
    assert_eq!(page.status, 200);
    let mut events = daemon.watch().await;
    let done = web
        .submit(&page, "form[action='/tasks/guarded/run']", &[])
        .await;
    assert_eq!(done.status, 303);
    let run = events
        .run_finished("guarded", WAIT)
        .await
        .expect("the run happens");
    assert!(
        run.requested_by.starts_with("alice (via "),
        "the signed-in user is recorded: {}",
        run.requested_by
    );
}

#[tokio::test]
async fn a_proxy_header_names_the_user_and_its_absence_is_refused() {
    let daemon = DaemonBuilder::new("tasks: []\n")
        .settings(
            "web:\n  auth: proxy_header\n  proxy_header: X-Remote-User\n  trusted_proxies: [127.0.0.1]\n",
        )
        .start();
    assert_eq!(
        reqwest::get(daemon.web_url())
            .await
            .expect("answer")
            .status(),
        403
    );
    let mut headers = HeaderMap::new();
    headers.insert("x-remote-user", HeaderValue::from_static("bob"));
    let page = client(daemon.web_url(), headers).get("/").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("bob"),
        "the page names the signed-in user"
    );
}

#[test]
fn with_authentication_the_ui_may_listen_beyond_loopback() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("tasks.yaml"), "tasks: []\n").expect("write");
    std::fs::write(
        dir.path().join("settings.yaml"),
        "web: {auth: proxy_header, trusted_proxies: [127.0.0.1]}\n",
    )
    .expect("write");
    let mut daemon = Daemon::command_listening(
        dir.path(),
        Some(&dir.path().join("settings.yaml")),
        "0.0.0.0:0",
    )
    .stderr(Stdio::piped())
    .spawn()
    .expect("speedrackd runs");
    let stderr = daemon.stderr.take().expect("stderr");
    let ready = std::io::BufRead::lines(std::io::BufReader::new(stderr))
        .map_while(Result::ok)
        .find(|line| {
            line.contains("web UI on http://0.0.0.0:") || line.starts_with("speedrackd: ")
        });
    let _ = daemon.kill();
    let _ = daemon.wait();
    assert!(
        ready.is_some_and(|line| line.contains("web UI on http://0.0.0.0:")),
        "it serves on every address"
    );
}
