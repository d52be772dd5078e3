//! A Speedrack 0.6.1 user's `speedrack_settings.py`, unchanged: `speedrackd check` accepts it
//! and names each ignored key once, the daemon runs the tasks its CONFIG_YAML names with its
//! values mapped onto ours, Python code in it is refused with file:line, and 0.6.1's command
//! line (`run --port N`, `init` without a directory) works.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};

use speedrack_proto::v1::GetConfigRequest;
use speedrack_tests::{Daemon, DaemonBuilder, binary};

/// Written as 0.6.1's `speedrack init` and a user left it: comments, arithmetic, obsolete keys,
/// a tuple, a continued line, a relative CONFIG_YAML.
const SETTINGS_PY: &str = r#"# Speedrack configuration file

DEBUG = False

FLASK_DEBUG_TOOLBAR = False
DEBUG_TB_INTERCEPT_REDIRECTS = False
DEBUG_TB_PANELS = ('flask_debugtoolbar.panels.versions.VersionDebugPanel',
                   'flask_debugtoolbar.panels.timer.TimerDebugPanel',)

CONFIG_YAML = "speedrack_tasks.yaml"

APP_NAME = "Cron " \
    'Central'   # shown in the navbar

EXECUTION_DISPLAY = 5 * 5
FSIZE_MAX     = 10 * 1000 # bytes
FSIZE_SUMMARY = 5000  # bytes

FAIL_BY_RETCODE = True
FAIL_BY_STDERR = False
MAX_RUNS = False

LOG_MAX_SIZE = 1024 * 1024 * 5
LOG_COUNT = 5

EMAIL_DISABLED = False
EMAIL_SMTP = "127.0.0.1:2525"
EMAIL_FROM_ADDRESS = "cron@example.org"
EMAIL_TO_GLOBAL = "ops@example.org"
"#;

/// Each ignored key and the line it is on in [`SETTINGS_PY`].
const IGNORED: &[(&str, usize)] = &[
    ("DEBUG", 3),
    ("FLASK_DEBUG_TOOLBAR", 5),
    ("DEBUG_TB_INTERCEPT_REDIRECTS", 6),
    ("DEBUG_TB_PANELS", 7),
    ("LOG_MAX_SIZE", 23),
    ("LOG_COUNT", 24),
];

/// A task that writes to stderr and exits 0: a success only because FAIL_BY_STDERR = False.
const TASKS: &str = "tasks:
  - name: fromconfig
    command: echo hello; echo noise >&2
    interval: 1h
";

fn speedrackd(dir: &Path, args: &[&str]) -> Output {
    Command::new(binary("speedrackd"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("speedrackd runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn check_accepts_the_py_settings_and_names_each_ignored_key_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("speedrack_settings.py"), SETTINGS_PY).expect("settings");
    std::fs::write(dir.path().join("speedrack_tasks.yaml"), TASKS).expect("tasks");
    // No --tasks: CONFIG_YAML names the file, relative to the settings file.
    let output = speedrackd(
        Path::new("/"),
        &[
            "check",
            "--settings",
            dir.path()
                .join("speedrack_settings.py")
                .to_str()
                .expect("utf-8"),
        ],
    );
    let said = text(&output);
    assert_eq!(output.status.code(), Some(0), "{said}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    for (key, line) in IGNORED {
        let warning = format!("speedrack_settings.py:{line}: {key} is ignored: ");
        assert_eq!(stdout.matches(&warning).count(), 1, "{key}: {said}");
    }
    assert_eq!(
        stdout.matches(" is ignored: ").count(),
        IGNORED.len(),
        "{said}"
    );
    assert!(
        said.contains("speedrack_tasks.yaml: 1 tasks, 0 with conf errors"),
        "{said}"
    );
}

#[tokio::test]
async fn the_daemon_runs_the_config_yaml_tasks_with_the_mapped_settings() {
    let builder = DaemonBuilder::new("tasks: []\n");
    std::fs::write(builder.dir().join("speedrack_tasks.yaml"), TASKS).expect("tasks");
    let daemon = builder
        .settings_file("speedrack_settings.py", SETTINGS_PY)
        .tasks_from_settings()
        .start();
    let log = daemon.log_text();
    for (key, line) in IGNORED {
        let warning = format!("speedrack_settings.py:{line}: {key} is ignored: ");
        assert_eq!(log.matches(&warning).count(), 1, "{key}: {log}");
    }

    let mut events = daemon.watch().await;
    let run = daemon.run_now_and_wait(&mut events, "fromconfig").await;
    assert_eq!(
        run.status(),
        speedrack_proto::v1::RunStatus::Success,
        "{run:?}"
    );

    let status = daemon.ctl().json(&["status"]);
    let tasks_path = daemon.dir().join("speedrack_tasks.yaml");
    assert_eq!(
        status["tasks_path"],
        tasks_path.to_str().expect("utf-8"),
        "{status}"
    );

    let config = daemon
        .client()
        .await
        .get_config(GetConfigRequest {})
        .await
        .expect("config")
        .into_inner();
    let setting = |name: &str| {
        config
            .settings
            .iter()
            .find(|setting| setting.name == name)
            .unwrap_or_else(|| panic!("{name} listed: {:?}", config.settings))
            .value
            .clone()
    };
    assert_eq!(setting("app_name"), "Cron Central");
    assert_eq!(setting("execution_display"), "25");
    assert_eq!(setting("fsize_max"), "10000");
    assert_eq!(setting("fsize_summary"), "5000");
    assert_eq!(setting("fail_by_stderr"), "false");
    assert_eq!(setting("max_keep"), "null");
    assert_eq!(setting("tasks_file"), tasks_path.to_str().expect("utf-8"));
    let email = setting("email");
    for expected in [
        "smtp_host: 127.0.0.1",
        "smtp_port: 2525",
        "from: cron@example.org",
        "to_global:\n- ops@example.org",
    ] {
        assert!(email.contains(expected), "{expected}: {email}");
    }
    assert!(
        !config
            .settings
            .iter()
            .any(|s| s.name.starts_with("EMAIL") || s.name == "DEBUG"),
        "{:?}",
        config.settings
    );
}

#[test]
fn python_code_in_the_settings_is_refused_with_file_and_line() {
    let cases = [
        (
            "APP_NAME = 'x'\n\nimport os\n",
            3,
            "`import os` is Python code; the settings file may only assign literal values",
        ),
        (
            "APP_NAME = str(5)\n",
            1,
            "`APP_NAME = str(5)` is Python code (a function call)",
        ),
        (
            "FSIZE_MAX = 10\nAPP_NAME = os.environ['X']\n",
            2,
            "(attribute access)",
        ),
    ];
    for (settings, line, message) in cases {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("tasks.yaml"), TASKS).expect("tasks");
        let path = dir.path().join("speedrack_settings.py");
        std::fs::write(&path, settings).expect("settings");
        // check names the file as given (relative here), run as an absolute path.
        let expected = format!("speedrack_settings.py:{line}: ");

        let output = speedrackd(
            dir.path(),
            &[
                "check",
                "--settings",
                "speedrack_settings.py",
                "--tasks",
                "tasks.yaml",
            ],
        );
        let said = text(&output);
        assert_eq!(output.status.code(), Some(78), "{said}");
        assert!(
            said.contains(&expected) && said.contains(message),
            "{settings}: {said}"
        );

        let stderr = Daemon::refusal(Daemon::command(dir.path(), Some(&path)));
        assert!(
            stderr.contains(&expected) && stderr.contains(message),
            "{settings}: {stderr}"
        );
    }
}

#[test]
fn a_py_settings_file_others_can_write_is_refused_like_a_yaml_one() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("tasks.yaml"), TASKS).expect("tasks");
    let path = dir.path().join("speedrack_settings.py");
    std::fs::write(&path, SETTINGS_PY).expect("settings");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    let stderr = Daemon::refusal(Daemon::command(dir.path(), Some(&path)));
    assert!(
        stderr.contains(&format!("refusing the settings file {}", path.display())),
        "{stderr}"
    );
}

#[test]
fn a_config_yaml_that_names_no_file_is_refused_naming_the_key() {
    // What 0.6.1's `init` wrote; 0.6.1's own command line always overrode it.
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("speedrack_settings.py"),
        "CONFIG_YAML = \"config/test.yaml\"\n",
    )
    .expect("settings");
    let output = speedrackd(
        dir.path(),
        &["check", "--settings", "speedrack_settings.py"],
    );
    let said = text(&output);
    assert_eq!(output.status.code(), Some(78), "{said}");
    assert!(
        said.contains(
            "config/test.yaml: cannot read the tasks file the settings name as \
                       tasks_file (0.6.1: CONFIG_YAML)"
        ) && said.contains("or give --tasks"),
        "{said}"
    );
    std::fs::write(dir.path().join("tasks.yaml"), TASKS).expect("tasks");
    let output = speedrackd(
        dir.path(),
        &[
            "check",
            "--settings",
            "speedrack_settings.py",
            "--tasks",
            "tasks.yaml",
        ],
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "--tasks wins: {}",
        text(&output)
    );
}

#[tokio::test]
async fn run_port_listens_where_asked_and_conflicts_with_listen() {
    let port = {
        let probe = TcpListener::bind("127.0.0.1:0").expect("a free port");
        probe.local_addr().expect("address").port()
    };
    let daemon = DaemonBuilder::new(TASKS)
        .settings("listen: 127.0.0.1:8118\n")
        .port(port)
        .start();
    assert_eq!(daemon.web_url(), format!("http://127.0.0.1:{port}"));
    let status = reqwest::get(format!("{}/", daemon.web_url()))
        .await
        .expect("the web UI answers on the port")
        .status();
    assert!(status.is_success(), "{status}");

    let output = speedrackd(
        Path::new("/"),
        &["run", "--port", "9000", "--listen", "127.0.0.1:9001"],
    );
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        text(&output).contains("cannot be used with"),
        "{}",
        text(&output)
    );
}

#[test]
fn init_without_a_directory_writes_into_the_current_one_and_never_overwrites() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = speedrackd(dir.path(), &["init"]);
    assert!(output.status.success(), "{}", text(&output));
    for file in ["speedrack_settings.yaml", "speedrack_tasks.yaml"] {
        assert!(dir.path().join(file).is_file(), "{file}: {}", text(&output));
    }
    std::fs::write(dir.path().join("speedrack_tasks.yaml"), "tasks: []\n").expect("edit");
    let again = speedrackd(dir.path(), &["init"]);
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    assert!(text(&again).contains("already exists"), "{}", text(&again));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("speedrack_tasks.yaml")).expect("kept"),
        "tasks: []\n"
    );
}
