//! Finding the binaries under test, freshly built.
//!
//! `cargo test` builds a package's own binaries only for that package's tests, so the harness
//! builds `speedrackd` and `speedrackctl` itself, once per test process, in the same profile
//! and target dir as the running test. That way a test can never run a stale binary.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// The directory holding binaries of the profile this test was built with (`target/debug`).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary knows its path");
    // target/<profile>/deps/<test binary>
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("test binary lives in target/<profile>/deps")
        .to_path_buf()
}

/// Builds the daemon and ctl binaries once; panics with cargo's output when that fails.
pub fn build_binaries() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut command = Command::new(cargo);
        command.args(["build", "--quiet", "-p", "speedrackd", "-p", "speedrackctl"]);
        if profile_dir()
            .file_name()
            .is_some_and(|name| name == "release")
        {
            command.arg("--release");
        }
        let output = command.output().expect("cargo runs");
        assert!(
            output.status.success(),
            "building the binaries failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    });
}

/// Path of a workspace binary, built if needed.
pub fn binary(name: &str) -> PathBuf {
    build_binaries();
    let path = profile_dir().join(name);
    assert!(path.exists(), "{} was not built", path.display());
    path
}
