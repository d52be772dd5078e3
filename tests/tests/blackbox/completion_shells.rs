//! The completion scripts under contrib/ as the shells run them: bash sources the committed
//! script and calls its completion function the way readline does; for zsh, speedrackctl is
//! called with what the committed zsh script passes (zsh itself is not needed for that). Task
//! names come from the daemon; with the daemon down, nothing is offered and nothing is printed
//! on the terminal.

use std::path::PathBuf;
use std::process::Command;

use speedrack_tests::{Daemon, binary};

const TASKS: &str = "tasks:
  - {name: alpha, command: 'true', interval: 400w}
  - {name: beta, command: 'true', interval: 400w}
";

fn contrib(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../contrib/completions")
        .join(file)
}

/// A PATH where the completion scripts find the speedrackctl under test.
fn path_with_ctl() -> String {
    let dir = binary("speedrackctl")
        .parent()
        .expect("a directory")
        .display()
        .to_string();
    format!("{dir}:/usr/bin:/bin")
}

/// Bash's candidates for the command line `words` (the last word being completed).
fn bash_candidates(words: &[&str]) -> (Vec<String>, String) {
    let quoted: Vec<String> = words.iter().map(|word| format!("'{word}'")).collect();
    let script = format!(
        "source '{}'\nCOMP_WORDS=({})\nCOMP_CWORD={}\nCOMP_TYPE=9\n\
         _clap_complete_speedrackctl speedrackctl '{}' '{}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        contrib("speedrackctl.bash").display(),
        quoted.join(" "),
        words.len() - 1,
        words[words.len() - 1],
        words[words.len() - 2],
    );
    let output = Command::new("bash")
        .args(["--noprofile", "--norc", "-c", &script])
        .env("PATH", path_with_ctl())
        .env_remove(speedrack_proto::SOCKET_ENV)
        .output()
        .expect("bash runs");
    assert!(output.status.success(), "{output:?}");
    let candidates = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::trim_end)
        .filter(|line| !line.is_empty() && !line.starts_with('-'))
        .map(str::to_owned)
        .collect();
    (
        candidates,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn bash_completes_task_names_through_the_committed_script() {
    let daemon = Daemon::start(TASKS);
    let socket = daemon.socket().display().to_string();
    let (names, _) = bash_candidates(&["speedrackctl", "--socket", &socket, "run-now", ""]);
    assert_eq!(names, ["alpha", "beta"]);
    let (typed, _) = bash_candidates(&["speedrackctl", "--socket", &socket, "show", "b"]);
    assert_eq!(typed, ["beta"]);

    let gone = daemon.dir().join("gone.sock").display().to_string();
    let (none, stderr) = bash_candidates(&["speedrackctl", "--socket", &gone, "run-now", ""]);
    assert!(none.is_empty(), "{none:?}");
    assert!(stderr.is_empty(), "nothing on the terminal: {stderr}");
}

/// What the committed zsh script gets for `words`, called as it calls speedrackctl.
fn zsh_candidates(words: &[&str]) -> Vec<String> {
    let script = std::fs::read_to_string(contrib("_speedrackctl")).expect("the zsh script");
    assert!(
        script.contains("COMPLETE=\"zsh\"") && script.contains("_CLAP_COMPLETE_INDEX"),
        "the zsh script's protocol changed; update this test:\n{script}"
    );
    let output = Command::new(binary("speedrackctl"))
        .env("COMPLETE", "zsh")
        .env("_CLAP_IFS", "\n")
        .env("_CLAP_COMPLETE_INDEX", (words.len() - 1).to_string())
        .env_remove(speedrack_proto::SOCKET_ENV)
        .arg("--")
        .args(words)
        .output()
        .expect("speedrackctl runs");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| line.split(':').next().unwrap_or_default().to_owned())
        .filter(|value| !value.is_empty() && !value.starts_with('-'))
        .collect()
}

#[test]
fn zsh_gets_task_names_and_run_ids_as_its_script_asks() {
    let daemon = Daemon::start(TASKS);
    let socket = daemon.socket().display().to_string();
    assert_eq!(
        zsh_candidates(&["speedrackctl", "--socket", &socket, "suspend", ""]),
        ["alpha", "beta"]
    );
    let run = daemon.ctl().json(&["run-now", "alpha", "--wait"]);
    assert_eq!(
        zsh_candidates(&["speedrackctl", "--socket", &socket, "output", "alpha", ""]),
        [run["id"].to_string()]
    );
    let gone = daemon.dir().join("gone.sock").display().to_string();
    assert!(zsh_candidates(&["speedrackctl", "--socket", &gone, "suspend", ""]).is_empty());
}
