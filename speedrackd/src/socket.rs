//! Binding the API socket safely: a private directory, mode 0600, a stale socket replaced, a
//! live one (another daemon) refused, and the per-user fallback directory in `/tmp` used only
//! when it is the daemon user's own (anyone could have created it first). Who owns the
//! directories of a socket named explicitly is the admin's choice and not checked.

use std::fs::DirBuilder;
use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum BindError {
    #[error("another speedrackd is already listening on {} (stop it, or give this one another --socket)", .0.display())]
    AlreadyRunning(PathBuf),
    #[error("{} exists and is not a socket; move it away or choose another --socket", .0.display())]
    NotASocket(PathBuf),
    #[error("refusing the socket directory {}: {why}; fix with: {fix}", dir.display())]
    UnsafeDir {
        dir: PathBuf,
        why: String,
        fix: String,
    },
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Binds a listening socket at `path`: mode 0600, or 0660 owned by `group` when one is given.
pub fn bind(path: &Path, group: Option<u32>) -> Result<UnixListener, BindError> {
    let io_error = |action, source| BindError::Io {
        action,
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty() && !dir.exists())
    {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| io_error("create the directory of", e))?;
    }
    let uid = nix::unistd::getuid().as_raw();
    if let Some(dir) = path.parent()
        && dir == speedrack_proto::fallback_socket_dir(uid)
    {
        check_private_dir(dir, uid)?;
    }
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => match UnixStream::connect(path) {
            Ok(_) => return Err(BindError::AlreadyRunning(path.to_path_buf())),
            Err(error) if error.kind() == ErrorKind::ConnectionRefused => {
                std::fs::remove_file(path).map_err(|e| io_error("remove the stale socket", e))?;
            }
            Err(error) => return Err(io_error("check the existing socket", error)),
        },
        Ok(_) => return Err(BindError::NotASocket(path.to_path_buf())),
        Err(error) if error.kind() == ErrorKind::NotFound => {}
        Err(error) => return Err(io_error("inspect", error)),
    }
    let listener = UnixListener::bind(path).map_err(|e| io_error("bind", e))?;
    let mode = if group.is_some() { 0o660 } else { 0o600 };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| io_error("restrict", e))?;
    if let Some(gid) = group {
        nix::unistd::chown(path, None, Some(nix::unistd::Gid::from_raw(gid))).map_err(|errno| {
            io_error("give the socket to its group", std::io::Error::from(errno))
        })?;
    }
    listener
        .set_nonblocking(true)
        .map_err(|e| io_error("configure", e))?;
    Ok(listener)
}

/// Refuses a directory that is not `uid`'s own with mode 0700 (a symlink is not a directory).
fn check_private_dir(dir: &Path, uid: u32) -> Result<(), BindError> {
    let meta = std::fs::symlink_metadata(dir).map_err(|source| BindError::Io {
        action: "inspect",
        path: dir.to_path_buf(),
        source,
    })?;
    let shown = dir.display();
    let refuse = |why: String, fix: String| {
        Err(BindError::UnsafeDir {
            dir: dir.to_path_buf(),
            why,
            fix,
        })
    };
    if !meta.is_dir() {
        return refuse(
            "it is not a directory".to_owned(),
            format!("rm {shown}, then start again"),
        );
    }
    if meta.uid() != uid {
        return refuse(
            format!(
                "it is owned by uid {}, not by this daemon's uid {uid}; another user may have \
                 made it to impersonate the daemon",
                meta.uid()
            ),
            format!("rm -r {shown} as root (or set XDG_RUNTIME_DIR, or give --socket)"),
        );
    }
    let mode = meta.mode() & 0o7777;
    if mode != 0o700 {
        return refuse(
            format!("its mode is {mode:04o}, not 0700"),
            format!("chmod 0700 {shown}"),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_with_owner_only_permissions_in_a_new_private_directory() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("sub").join("d.sock");
        let _listener = bind(&path, None).expect("bind");
        let mode = std::fs::metadata(&path)
            .expect("socket")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
        let dir_mode = std::fs::metadata(dir.path().join("sub"))
            .expect("dir")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(dir_mode, 0o700);
    }

    #[test]
    fn replaces_a_stale_socket_but_refuses_a_live_one() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("d.sock");
        let live = bind(&path, None).expect("first bind");
        assert!(matches!(
            bind(&path, None),
            Err(BindError::AlreadyRunning(_))
        ));
        drop(live); // the file stays behind, like after a crash
        assert!(path.exists());
        bind(&path, None).expect("a stale socket is replaced");
    }

    #[test]
    fn the_private_dir_check_wants_the_owner_and_mode_0700() {
        let dir = tempfile::tempdir().expect("temp dir");
        let uid = nix::unistd::getuid().as_raw();
        let set = |mode| {
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(mode))
                .expect("chmod")
        };
        set(0o700);
        assert!(check_private_dir(dir.path(), uid).is_ok());
        set(0o755);
        let error = check_private_dir(dir.path(), uid).expect_err("too open");
        assert!(
            error.to_string().contains("fix with: chmod 0700"),
            "{error}"
        );
        set(0o700);
        let error = check_private_dir(dir.path(), uid + 1).expect_err("not ours");
        assert!(error.to_string().contains("impersonate"), "{error}");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(dir.path(), &link).expect("symlink");
        let error = check_private_dir(&link, uid).expect_err("a symlink");
        assert!(error.to_string().contains("not a directory"), "{error}");
    }

    #[test]
    fn refuses_to_replace_a_file_that_is_not_a_socket() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("precious.txt");
        std::fs::write(&path, "keep me").expect("write");
        assert!(matches!(bind(&path, None), Err(BindError::NotASocket(_))));
        assert_eq!(
            std::fs::read_to_string(&path).expect("still there"),
            "keep me"
        );
    }
}
