//! Binding the API socket safely: a private directory, mode 0600, a stale socket replaced, a
//! live one (another daemon) refused.

use std::fs::DirBuilder;
use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum BindError {
    #[error("another speedrackd is already listening on {} (stop it, or give this one another --socket)", .0.display())]
    AlreadyRunning(PathBuf),
    #[error("{} exists and is not a socket; move it away or choose another --socket", .0.display())]
    NotASocket(PathBuf),
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
