//! Whether a job tree may be imported: it is read by root, usually, from a place it did not
//! write, and what it holds becomes history anyone with the web UI can read, and suspensions
//! that stop real jobs. 0.6.1's default tree is under `/tmp`, where any user can create it
//! first. So the tree's directory, the directory above it and the suspended-tasks file must
//! belong to root or to the importing user and must not be writable by others; and nothing in
//! the tree is read through a symbolic link (`scan.rs` opens every file with `O_NOFOLLOW`).

use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Why `path` is not to be trusted, or `None`. `euid` is the importing user.
pub fn untrusted(path: &Path, euid: u32) -> Option<String> {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        // Reading it says why, in the words of the step that reads it.
        Err(_) => return None,
    };
    let owner = meta.uid();
    if owner != 0 && owner != euid {
        return Some(format!(
            "{} belongs to uid {owner}, neither root nor you: another user could have put \
             runs or suspensions there (copy the tree somewhere only you can write, or chown it)",
            path.display()
        ));
    }
    if meta.mode() & 0o002 != 0 && meta.mode() & 0o1000 == 0 {
        return Some(format!(
            "{} is writable by every user: another user could have put runs or suspensions \
             there (chmod o-w it, or copy the tree somewhere only you can write)",
            path.display()
        ));
    }
    None
}

/// Checks the job tree's directory and the one above it (unless that is a sticky directory
/// such as /tmp, where nobody else can move it), and the suspended-tasks file.
pub fn check_sources(jobs: &Path, suspended: Option<&Path>, euid: u32) -> Result<(), String> {
    let parent = jobs.parent().filter(|parent| !is_sticky(parent));
    [Some(jobs), parent, suspended]
        .into_iter()
        .flatten()
        .find_map(|path| untrusted(path, euid))
        .map_or(Ok(()), Err)
}

fn is_sticky(dir: &Path) -> bool {
    std::fs::metadata(dir).is_ok_and(|meta| meta.mode() & 0o1000 != 0)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn a_tree_others_can_write_or_own_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let jobs = dir.path().join("jobs");
        std::fs::create_dir(&jobs).expect("jobs");
        let me = rustix::process::geteuid().as_raw();
        assert_eq!(check_sources(&jobs, None, me), Ok(()));

        std::fs::set_permissions(&jobs, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        let refused = check_sources(&jobs, None, me).expect_err("world-writable");
        assert!(refused.contains("writable by every user"), "{refused}");
        std::fs::set_permissions(&jobs, std::fs::Permissions::from_mode(0o755)).expect("chmod");

        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777))
            .expect("chmod");
        let refused = check_sources(&jobs, None, me).expect_err("the parent is world-writable");
        assert!(
            refused.contains(&dir.path().display().to_string()),
            "{refused}"
        );
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o1777))
            .expect("chmod");
        assert_eq!(
            check_sources(&jobs, None, me),
            Ok(()),
            "a sticky parent is /tmp's case"
        );

        // Owned by someone who is neither root nor the importer.
        let importer = if me == 0 {
            std::os::unix::fs::chown(&jobs, Some(4242), None).expect("chown");
            0
        } else {
            me + 1
        };
        let refused = check_sources(&jobs, None, importer).expect_err("owned by another");
        assert!(refused.contains("neither root nor you"), "{refused}");
    }
}
