//! `/metrics` for Prometheus apart from the UI: on its own address with `--no-web`, behind a
//! bearer token instead of the UI's password, and refused where it would be open to anyone.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use speedrack_tests::web::hash_password;
use speedrack_tests::{Daemon, DaemonBuilder};

const TASKS: &str = "tasks:\n  - {name: counted, command: 'true', interval: 400w}\n";
const TOKEN: &str = "prometheus-token-0123456789abcdef";

fn write_token(dir: &Path, mode: u32) -> std::path::PathBuf {
    let path = dir.join("metrics.token");
    std::fs::write(&path, format!("{TOKEN}\n")).expect("write token");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    path
}

async fn get(url: &str, bearer: Option<&str>) -> (u16, String, Option<String>) {
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("an answer");
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    (status, response.text().await.expect("a body"), challenge)
}

#[tokio::test]
async fn metrics_listen_serves_scrapes_with_the_token_and_no_web_ui() {
    let builder = DaemonBuilder::new(TASKS);
    let token = write_token(builder.dir(), 0o600);
    let settings = format!(
        "metrics:\n  listen: 127.0.0.1:0\n  token_file: {}\n",
        token.display()
    );
    let daemon = builder.settings(&settings).no_web().start();
    assert!(
        !daemon.log_text().contains("web UI on"),
        "--no-web serves no UI:\n{}",
        daemon.log_text()
    );
    let metrics = format!("{}/metrics", daemon.metrics_url());

    let (status, body, challenge) = get(&metrics, None).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(
        challenge.as_deref(),
        Some("Bearer realm=\"speedrack metrics\"")
    );
    let (status, _, _) = get(&metrics, Some("prometheus-token-wrong")).await;
    assert_eq!(status, 401);

    let (status, body, _) = get(&metrics, Some(TOKEN)).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("speedrack_build_info{"), "{body}");
    assert!(body.contains("task=\"counted\""), "{body}");

    let (status, body, _) = get(&format!("{}/", daemon.metrics_url()), Some(TOKEN)).await;
    assert_eq!(status, 404, "only /metrics is served there: {body}");
}

#[tokio::test]
async fn the_token_replaces_the_ui_password_for_metrics_only() {
    let builder = DaemonBuilder::new(TASKS);
    let token = write_token(builder.dir(), 0o640);
    let hash = hash_password("ui password");
    let settings = format!(
        "web:\n  auth: basic\n  users:\n    alice: '{hash}'\nmetrics:\n  token_file: {}\n",
        token.display()
    );
    let daemon = builder.settings(&settings).start();
    let web = daemon.web_url();

    let (status, body, _) = get(&format!("{web}/metrics"), Some(TOKEN)).await;
    assert_eq!(status, 200, "the token is enough for /metrics: {body}");
    let (status, _, challenge) = get(&format!("{web}/metrics"), None).await;
    assert_eq!(status, 401);
    assert!(challenge.is_some_and(|value| value.starts_with("Bearer")));
    let (status, _, challenge) = get(&format!("{web}/"), Some(TOKEN)).await;
    assert_eq!(status, 401, "the token opens no page");
    assert!(challenge.is_some_and(|value| value.starts_with("Basic")));
}

#[test]
fn an_open_or_exposed_metrics_listener_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("tasks.yaml"), TASKS).expect("tasks");
    let settings = dir.path().join("settings.yaml");

    std::fs::write(&settings, "metrics:\n  listen: 0.0.0.0:0\n").expect("settings");
    let refusal = Daemon::refusal(Daemon::command(dir.path(), Some(&settings)));
    assert!(
        refusal.contains("refusing to serve /metrics on 0.0.0.0:0")
            && refusal.contains("metrics.token_file"),
        "{refusal}"
    );

    let token = write_token(dir.path(), 0o644);
    let text = format!("metrics:\n  token_file: {}\n", token.display());
    std::fs::write(&settings, text).expect("settings");
    let refusal = Daemon::refusal(Daemon::command(dir.path(), Some(&settings)));
    assert!(
        refusal.contains(&format!("chmod o-rwx {}", token.display())),
        "{refusal}"
    );
}
