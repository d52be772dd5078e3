//! The tasks file is code the daemon runs as its own user, so who may write it matters: a file
//! that its group or everyone can write, or that another (non-root) user owns, is refused unless
//! the settings say `allow_insecure_tasks_file: true`.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::ConfigError;

/// Why a tasks file's ownership or mode is unsafe, if it is; `daemon_uid` is who runs commands.
pub fn insecurity(mode: u32, owner: u32, daemon_uid: u32) -> Option<String> {
    if mode & 0o022 != 0 {
        let who = if mode & 0o002 != 0 {
            "everyone"
        } else {
            "its group"
        };
        return Some(format!(
            "{who} can write it (mode {:04o}); fix with: chmod go-w FILE",
            mode & 0o7777
        ));
    }
    if owner != 0 && owner != daemon_uid {
        return Some(format!(
            "it is owned by uid {owner}, another user; fix with: chown root FILE (or the daemon's user)"
        ));
    }
    None
}

/// Refuses an unsafe tasks file with a message saying why and how to fix it.
pub fn check_tasks_file(path: &Path, allow_insecure: bool) -> Result<(), ConfigError> {
    if allow_insecure {
        return Ok(());
    }
    let meta = std::fs::metadata(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let daemon_uid = nix::unistd::getuid().as_raw();
    match insecurity(meta.mode(), meta.uid(), daemon_uid) {
        None => Ok(()),
        Some(why) => Err(ConfigError::Insecure {
            path: path.to_path_buf(),
            why: why.replace("FILE", &path.display().to_string()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_writable_by_others_or_owned_by_a_stranger() {
        let cases = [
            (0o600, 1000, None),
            (0o640, 1000, None),
            (0o644, 0, None),
            (0o664, 1000, Some("its group can write it (mode 0664)")),
            (0o646, 1000, Some("everyone can write it (mode 0646)")),
            (0o600, 2000, Some("owned by uid 2000")),
        ];
        for (mode, owner, expected) in cases {
            let got = insecurity(0o100_000 | mode, owner, 1000);
            match expected {
                None => assert_eq!(got, None, "{mode:o}"),
                Some(text) => assert!(
                    got.as_deref().is_some_and(|got| got.contains(text)),
                    "{mode:o}: {got:?}"
                ),
            }
        }
    }
}
