//! Who may write the files that decide what the daemon runs. The settings file (which names the
//! shell and the tasks file's escape hatch), every file it names (the shell, password files) and
//! the tasks file are refused when another user owns them or could write them: a group other
//! than root's or the daemon's own, or everyone. The refusal shows the command that fixes it.
//!
//! Only the tasks file has an escape hatch (`allow_insecure_tasks_file`), set in the settings;
//! nothing relaxes the settings file or what it names, since a hatch kept in the file it guards
//! would open to whoever can write that file. The directories above a named file are checked
//! too, since the shell is run later without another look; those of the settings and tasks
//! files are not: a replaced file is checked again when it is read, and a user cannot make a
//! file root's.

use std::fs::{File, Metadata};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::ConfigError;

/// What a guarded file is to the daemon, for messages.
#[derive(Debug, Clone, Copy)]
pub enum Role<'a> {
    Settings,
    Tasks,
    /// A file the settings name under `key`, written on `line` of `settings`.
    Named {
        key: &'a str,
        settings: &'a Path,
        line: Option<usize>,
    },
}

impl Role<'_> {
    fn describe(self) -> String {
        match self {
            Role::Settings => "the settings file".to_owned(),
            Role::Tasks => "the tasks file".to_owned(),
            Role::Named {
                key,
                settings,
                line,
            } => {
                let at = line.map(|line| format!(":{line}")).unwrap_or_default();
                format!("{key} (named at {}{at})", settings.display())
            }
        }
    }

    fn hatch(self) -> &'static str {
        match self {
            Role::Tasks => " (or set allow_insecure_tasks_file: true in the settings)",
            Role::Settings | Role::Named { .. } => "",
        }
    }
}

/// The users and groups whose files the daemon trusts besides root's: its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trust {
    pub uid: u32,
    pub gid: u32,
}

impl Trust {
    pub fn of_daemon() -> Trust {
        Trust {
            uid: nix::unistd::getuid().as_raw(),
            gid: nix::unistd::getgid().as_raw(),
        }
    }
}

/// Why a file's owner or mode is unsafe, and the command that fixes it (with `FILE` standing
/// for its path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Insecurity {
    pub why: String,
    pub fix: String,
}

/// Judges a file's `mode`, `owner` and `group` against who the daemon trusts.
pub fn insecurity(mode: u32, owner: u32, group: u32, trust: Trust) -> Option<Insecurity> {
    let mut why = Vec::new();
    let mut fix = Vec::new();
    if owner != 0 && owner != trust.uid {
        why.push(format!("it is owned by uid {owner}, another user"));
        fix.push(format!("chown {} FILE", user_name(trust.uid)));
    }
    let group_trusted = group == 0 || group == trust.gid;
    let group_writes = mode & 0o020 != 0 && !group_trusted;
    let others_write = mode & 0o002 != 0;
    let who = match (group_writes, others_write) {
        (_, true) => Some(("everyone", if group_writes { "go-w" } else { "o-w" })),
        (true, false) => Some(("its group (gid {group})", "g-w")),
        (false, false) => None,
    };
    if let Some((who, bits)) = who {
        let who = who.replace("{group}", &group.to_string());
        why.push(format!("{who} can write it (mode {:04o})", mode & 0o7777));
        fix.push(format!("chmod {bits} FILE"));
    }
    (!why.is_empty()).then(|| Insecurity {
        why: why.join(" and "),
        fix: fix.join(" && "),
    })
}

/// `root`, the daemon's user name, or its uid when it has no name.
fn user_name(uid: u32) -> String {
    match nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)) {
        Ok(Some(user)) => user.name,
        _ => uid.to_string(),
    }
}

/// Refuses a file whose metadata says others could change what it holds.
pub fn check_metadata(path: &Path, meta: &Metadata, role: Role<'_>) -> Result<(), ConfigError> {
    if !meta.is_file() {
        return Err(refusal(
            path,
            role,
            Insecurity {
                why: "it is not a regular file".to_owned(),
                fix: "point the setting at a regular file".to_owned(),
            },
        ));
    }
    match insecurity(meta.mode(), meta.uid(), meta.gid(), Trust::of_daemon()) {
        None => Ok(()),
        Some(insecurity) => Err(refusal(path, role, insecurity)),
    }
}

fn refusal(path: &Path, role: Role<'_>, insecurity: Insecurity) -> ConfigError {
    let shown = path.display().to_string();
    ConfigError::Insecure {
        what: role.describe(),
        path: path.to_path_buf(),
        why: insecurity.why,
        fix: insecurity.fix.replace("FILE", &shown),
        hatch: role.hatch(),
    }
}

/// Opens a file to read and checks the opened file itself, so that what is read is what was
/// checked.
pub fn open_checked(path: &Path, role: Role<'_>) -> Result<File, ConfigError> {
    let file = super::read::open(path)?;
    let meta = file.metadata().map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    check_metadata(path, &meta, role)?;
    Ok(file)
}

/// Checks a file the settings name (the shell, a password file) without reading it.
pub fn check_named_file(path: &Path, role: Role<'_>) -> Result<(), ConfigError> {
    let meta = std::fs::metadata(path).map_err(|source| ConfigError::Named {
        what: role.describe(),
        path: path.to_path_buf(),
        source,
    })?;
    check_metadata(path, &meta, role)?;
    // The file is used later without another check (the shell at every run), so whoever can
    // replace it in its directory must be trusted too: every directory above it, as written
    // and after resolving links.
    let resolved = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    for dir in path.ancestors().skip(1).chain(resolved.ancestors().skip(1)) {
        check_directory(path, dir, role)?;
    }
    Ok(())
}

/// Refuses a directory that lets others replace what it holds; a sticky one (like `/tmp`) lets
/// them replace only their own files, which the file's own check already refuses.
fn check_directory(path: &Path, dir: &Path, role: Role<'_>) -> Result<(), ConfigError> {
    if dir.as_os_str().is_empty() {
        return Ok(());
    }
    let Ok(meta) = std::fs::metadata(dir) else {
        return Ok(());
    };
    let mode = match meta.mode() & 0o1000 {
        0 => meta.mode(),
        _ => meta.mode() & !0o022,
    };
    match insecurity(mode, meta.uid(), meta.gid(), Trust::of_daemon()) {
        None => Ok(()),
        Some(insecurity) => {
            let shown = dir.display().to_string();
            let why = format!("its directory {shown}: {}", insecurity.why);
            let fix = insecurity.fix.replace("FILE", &shown);
            Err(refusal(path, role, Insecurity { why, fix }))
        }
    }
}

/// Refuses an unsafe tasks file with a message saying why and how to fix it.
pub fn check_tasks_file(path: &Path, allow_insecure: bool) -> Result<(), ConfigError> {
    if allow_insecure {
        return Ok(());
    }
    open_checked(path, Role::Tasks).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Ids with no name on any test machine, so that fixes show them as numbers.
    const DAEMON: Trust = Trust {
        uid: 3_999_000,
        gid: 3_999_000,
    };

    #[test]
    fn refuses_files_others_can_change_and_says_how_to_fix_them() {
        let cases = [
            (0o600, 3_999_000, 3_999_000, None),
            (0o640, 3_999_000, 50, None),
            (0o644, 0, 0, None),
            (0o664, 3_999_000, 3_999_000, None),
            (0o664, 0, 0, None),
            (
                0o664,
                3_999_000,
                50,
                Some((
                    "its group (gid 50) can write it (mode 0664)",
                    "chmod g-w FILE",
                )),
            ),
            (
                0o646,
                3_999_000,
                3_999_000,
                Some(("everyone can write it (mode 0646)", "chmod o-w FILE")),
            ),
            (
                0o666,
                3_999_000,
                50,
                Some(("everyone can write it (mode 0666)", "chmod go-w FILE")),
            ),
            (
                0o600,
                2000,
                3_999_000,
                Some(("owned by uid 2000, another user", "chown 3999000 FILE")),
            ),
            (
                0o666,
                2000,
                3_999_000,
                Some((
                    "owned by uid 2000, another user and everyone can write it",
                    "chown 3999000 FILE && chmod o-w FILE",
                )),
            ),
        ];
        for (mode, owner, group, expected) in cases {
            let got = insecurity(0o100_000 | mode, owner, group, DAEMON);
            match expected {
                None => assert_eq!(got, None, "{mode:o}"),
                Some((why, fix)) => {
                    let got = got.unwrap_or_else(|| panic!("{mode:o} {owner} {group} refused"));
                    assert!(got.why.contains(why), "{mode:o}: {got:?}");
                    assert!(got.fix.ends_with(fix), "{mode:o}: {got:?}");
                }
            }
        }
    }

    #[test]
    fn a_sticky_directory_others_can_write_is_trusted_and_a_plain_one_is_not() {
        let dir = tempfile::tempdir().expect("temp dir");
        let shell = dir.path().join("sh");
        std::fs::write(&shell, "").expect("write");
        let set = |mode| {
            std::fs::set_permissions(
                dir.path(),
                std::os::unix::fs::PermissionsExt::from_mode(mode),
            )
            .expect("chmod")
        };
        let role = Role::Named {
            key: "shell",
            settings: Path::new("s.yaml"),
            line: None,
        };
        set(0o1777);
        assert!(check_named_file(&shell, role).is_ok());
        set(0o777);
        let error = check_named_file(&shell, role).expect_err("replaceable");
        let shown = dir.path().display();
        assert!(
            error.to_string().contains(&format!(
                "its directory {shown}: everyone can write it (mode 0777); fix with: chmod o-w {shown}"
            )),
            "{error}"
        );
        set(0o700);
    }

    #[test]
    fn a_root_daemon_is_told_to_chown_root() {
        let root = Trust { uid: 0, gid: 0 };
        let got = insecurity(0o100_644, 65534, 0, root).expect("refused");
        assert_eq!(got.fix, "chown root FILE");
    }

    #[test]
    fn refusals_name_the_file_its_role_and_the_exact_command() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("settings.yaml");
        std::fs::write(&path, "").expect("write");
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o666))
            .expect("chmod");
        let error = open_checked(&path, Role::Settings).expect_err("refused");
        let shown = path.display();
        assert_eq!(
            error.to_string(),
            format!(
                "refusing the settings file {shown}: everyone can write it (mode 0666); \
                 fix with: chmod o-w {shown}"
            )
        );
        let error = check_named_file(
            &dir.path().join("none"),
            Role::Named {
                key: "shell",
                settings: &path,
                line: Some(3),
            },
        )
        .expect_err("missing");
        assert!(
            error
                .to_string()
                .contains(&format!("shell (named at {shown}:3)")),
            "{error}"
        );
        assert!(check_tasks_file(&path, true).is_ok());
    }
}
