//! The key that signs CSRF tokens: 32 random bytes, kept in a file only its owner can read
//! (created with mode 0600 on first use) so that tokens outlive restarts, or held in memory
//! only, for a standalone gateway given no file.
//!
//! It refuses a key file that others could read or that someone else owns, rather than fixing
//! it silently: such a key may already be known. What the key signs is `csrf.rs`'s business.

use std::fmt;
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use rand::Rng;
use ring::hmac;

/// The signing key. Its `Debug` never shows it.
#[derive(Clone)]
pub struct CsrfKey(hmac::Key);

impl fmt::Debug for CsrfKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("CsrfKey(redacted)")
    }
}

/// Why the key file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("cannot read or create the web UI's CSRF key {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the web UI's CSRF key {path} has mode {mode:o}, so others may know it: delete it (a new \
         one is made at the next start) or chmod 600 {path}"
    )]
    Exposed { path: PathBuf, mode: u32 },
    #[error(
        "the web UI's CSRF key {path} belongs to uid {owner}, not to this process's uid {me}: \
         delete it so that a new one is made"
    )]
    Foreign { path: PathBuf, owner: u32, me: u32 },
    #[error(
        "the web UI's CSRF key {path} is not a key (64 hex digits): delete it so that a new one \
         is made"
    )]
    Malformed { path: PathBuf },
}

const KEY_BYTES: usize = 32;

impl CsrfKey {
    /// A fresh random key that lives as long as the process.
    pub fn random() -> CsrfKey {
        CsrfKey::from_bytes(&rand::rng().random::<[u8; KEY_BYTES]>())
    }

    /// The key in `path`, made first (mode 0600) if there is none.
    ///
    /// A new key is written to a temporary file beside `path`, synced, then linked into place,
    /// so a crash or a full disk never leaves a partial key file behind.
    pub fn load_or_create(path: &Path) -> Result<CsrfKey, SecretError> {
        match CsrfKey::load(path) {
            Err(SecretError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound => {}
            loaded => return loaded,
        }
        let bytes = rand::rng().random::<[u8; KEY_BYTES]>();
        let text = format!("{}\n", hex(&bytes));
        install(path, |file| file.write_all(text.as_bytes())).map_err(|source| {
            SecretError::Io {
                path: path.to_owned(),
                source,
            }
        })?;
        Ok(CsrfKey::from_bytes(&bytes))
    }

    /// Whether the refusal is about a key file others may know, rather than one that is
    /// missing, unreadable or broken.
    pub fn is_insecure(error: &SecretError) -> bool {
        matches!(
            error,
            SecretError::Exposed { .. } | SecretError::Foreign { .. }
        )
    }

    fn load(path: &Path) -> Result<CsrfKey, SecretError> {
        let io = |source| SecretError::Io {
            path: path.to_owned(),
            source,
        };
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .open(path)
            .map_err(io)?;
        let metadata = file.metadata().map_err(io)?;
        let me = rustix::process::geteuid().as_raw();
        if metadata.uid() != me {
            return Err(SecretError::Foreign {
                path: path.to_owned(),
                owner: metadata.uid(),
                me,
            });
        }
        let mode = metadata.mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(SecretError::Exposed {
                path: path.to_owned(),
                mode,
            });
        }
        let mut text = String::new();
        file.take(256).read_to_string(&mut text).map_err(io)?;
        let bytes = unhex(text.trim()).ok_or_else(|| SecretError::Malformed {
            path: path.to_owned(),
        })?;
        Ok(CsrfKey::from_bytes(&bytes))
    }

    fn from_bytes(bytes: &[u8]) -> CsrfKey {
        CsrfKey(hmac::Key::new(hmac::HMAC_SHA256, bytes))
    }

    /// HMAC-SHA256 of `message`.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        hmac::sign(&self.0, message).as_ref().to_vec()
    }

    /// Whether `tag` is `message`'s signature, compared in constant time.
    pub fn verify(&self, message: &[u8], tag: &[u8]) -> bool {
        hmac::verify(&self.0, message, tag).is_ok()
    }
}

/// A fresh temporary name beside `path`, in the same directory so that linking it is atomic.
fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp{:016x}", rand::rng().random::<u64>()));
    path.with_file_name(name)
}

/// Makes `path` a private file (mode 0600) filled by `write`, all or nothing: `write` fills a
/// new temporary file beside it (never through a symlink), which is synced then renamed into
/// place; on any failure the temporary file is removed and `path` is left as it was.
fn install(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let temp = temp_path(path);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(&temp)?;
    let installed = write(&mut file)
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::rename(&temp, path));
    if installed.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    installed?;
    // The rename itself survives a crash only once the directory is synced.
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The 32 bytes of 64 hex digits.
pub fn unhex(text: &str) -> Option<[u8; KEY_BYTES]> {
    if text.len() != 2 * KEY_BYTES || !text.is_ascii() {
        return None;
    }
    let mut out = [0_u8; KEY_BYTES];
    for (slot, pair) in out.iter_mut().zip(text.as_bytes().chunks(2)) {
        *slot = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn the_key_file_is_made_private_and_read_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("web_csrf_key");
        let made = CsrfKey::load_or_create(&path).expect("made");
        let mode = std::fs::metadata(&path)
            .expect("exists")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let read = CsrfKey::load_or_create(&path).expect("read");
        let tag = made.sign(b"message");
        assert!(
            read.verify(b"message", &tag),
            "the same key after a restart"
        );
        assert!(!CsrfKey::random().verify(b"message", &tag));
    }

    #[test]
    fn an_exposed_or_broken_key_file_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("web_csrf_key");
        CsrfKey::load_or_create(&path).expect("made");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let error = CsrfKey::load_or_create(&path).expect_err("readable by others");
        assert!(error.to_string().contains("chmod 600"), "{error}");
        std::fs::write(&path, "not a key\n").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        assert!(matches!(
            CsrfKey::load_or_create(&path),
            Err(SecretError::Malformed { .. })
        ));
    }

    #[test]
    fn a_failed_write_leaves_no_key_file_behind() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("web_csrf_key");
        let failed = install(&path, |file| {
            file.write_all(b"0123")?;
            Err(std::io::ErrorKind::StorageFull.into())
        });
        assert_eq!(
            failed.expect_err("disk full").kind(),
            std::io::ErrorKind::StorageFull
        );
        let left: Vec<_> = std::fs::read_dir(dir.path()).expect("list").collect();
        assert!(left.is_empty(), "no partial key, no temp file: {left:?}");
        CsrfKey::load_or_create(&path).expect("the next start makes a key");
    }

    #[test]
    fn only_a_key_others_may_know_is_insecure() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("web_csrf_key");
        std::fs::write(&path, "short\n").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let malformed = CsrfKey::load_or_create(&path).expect_err("malformed");
        assert!(!CsrfKey::is_insecure(&malformed));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        let exposed = CsrfKey::load_or_create(&path).expect_err("exposed");
        assert!(CsrfKey::is_insecure(&exposed));
    }

    #[test]
    fn hex_round_trips() {
        let bytes = [0xab_u8; KEY_BYTES];
        assert_eq!(unhex(&hex(&bytes)), Some(bytes));
        assert_eq!(unhex("zz"), None);
        assert_eq!(unhex(&"g".repeat(64)), None);
    }
}
