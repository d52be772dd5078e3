//! How the daemon reaches PostgreSQL when several nodes share one (`store: postgres://…`): the
//! URL from the settings, the password from its file, TLS when the settings name a CA or the
//! URL asks for it. Connections are made here; what is stored is `history::pg`'s business and
//! how nodes coordinate is `cluster`'s.

#[cfg(any(test, feature = "throwaway-postgres"))]
pub mod throwaway;

use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use tokio_postgres::config::SslMode;

use crate::config::{Settings, StoreUrl};

/// A password longer than this is not a password file.
const MAX_PASSWORD_BYTES: u64 = 1024;

#[derive(Debug, thiserror::Error)]
pub enum PgSetupError {
    #[error("the settings' store is not a postgres:// URL")]
    NotPostgres,
    #[error(
        "cannot read the store URL {url}: {source}; write it like postgres://speedrack@db.example/speedrack"
    )]
    Url {
        url: String,
        #[source]
        source: tokio_postgres::Error,
    },
    #[error("cannot read the PostgreSQL password file {}: {source}", path.display())]
    PasswordIo {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the PostgreSQL password file {} has mode {mode:04o}: others may read it; run `chmod 600 {}`",
        path.display(), path.display()
    )]
    PasswordExposed { path: PathBuf, mode: u32 },
    #[error(
        "the PostgreSQL password file {} belongs to uid {owner}, neither root nor this daemon's (uid {me}); run `chown {me} {}`",
        path.display(), path.display()
    )]
    PasswordForeign { path: PathBuf, owner: u32, me: u32 },
    #[error("the PostgreSQL password file {} is not one line of at most {MAX_PASSWORD_BYTES} bytes of text", path.display())]
    PasswordMalformed { path: PathBuf },
    #[error("cannot read the CA certificates in {}: {reason}; name a PEM file of the authority that signed the server's certificate", path.display())]
    Ca { path: PathBuf, reason: String },
}

/// Where and how to connect; made once at start from the settings.
#[derive(Clone)]
pub struct PgTarget {
    config: tokio_postgres::Config,
    tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
    /// The URL as the settings write it: it never holds the password.
    shown: String,
}

impl std::fmt::Debug for PgTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgTarget")
            .field("url", &self.shown)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

impl PgTarget {
    /// The target the settings name: their `store` URL, `store_password_file` and
    /// `store_ca_file`.
    pub fn from_settings(settings: &Settings) -> Result<PgTarget, PgSetupError> {
        let StoreUrl::Postgres(url) = &settings.store else {
            return Err(PgSetupError::NotPostgres);
        };
        let mut config =
            tokio_postgres::Config::from_str(url).map_err(|source| PgSetupError::Url {
                url: url.clone(),
                source,
            })?;
        if let Some(path) = &settings.store_password_file {
            config.password(read_password(path)?);
        }
        if config.get_application_name().is_none() {
            config.application_name("speedrackd");
        }
        let roots = match &settings.store_ca_file {
            Some(path) => {
                config.ssl_mode(SslMode::Require);
                Some(read_roots(path)?)
            }
            None if config.get_ssl_mode() == SslMode::Require => Some(web_roots()),
            None => None,
        };
        let tls = roots.map(|roots| {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let client = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map(|builder| builder.with_root_certificates(roots).with_no_client_auth());
            // ring supports the default protocol versions; an error here is a build defect.
            tokio_postgres_rustls::MakeRustlsConnect::new(
                client.unwrap_or_else(|error| panic!("rustls with ring: {error}")),
            )
        });
        Ok(PgTarget {
            config,
            tls,
            shown: url.clone(),
        })
    }

    /// The URL as configured, for logs and status: it never holds the password.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// One connection, its I/O driven by a task on the current runtime until it closes.
    pub async fn connect(&self) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
        match &self.tls {
            Some(tls) => {
                let (client, connection) = self.config.connect(tls.clone()).await?;
                tokio::spawn(connection);
                Ok(client)
            }
            None => {
                let (client, connection) = self.config.connect(tokio_postgres::NoTls).await?;
                tokio::spawn(connection);
                Ok(client)
            }
        }
    }

    /// One connection whose notifications (of LISTEN) arrive on the receiver, at most
    /// `capacity` waiting: a task drives the connection and passes them on, dropping (and
    /// saying so) what a full receiver cannot take. The receiver ends when the connection does.
    pub async fn connect_listening(
        &self,
        capacity: usize,
    ) -> Result<(tokio_postgres::Client, Notifications), tokio_postgres::Error> {
        let (sender, notifications) = tokio::sync::mpsc::channel(capacity);
        let client = match &self.tls {
            Some(tls) => {
                let (client, connection) = self.config.connect(tls.clone()).await?;
                tokio::spawn(pass_notifications(connection, sender));
                client
            }
            None => {
                let (client, connection) = self.config.connect(tokio_postgres::NoTls).await?;
                tokio::spawn(pass_notifications(connection, sender));
                client
            }
        };
        Ok((client, notifications))
    }

    /// A pool of at most `size` connections, made as they are first needed.
    pub fn pool(&self, size: usize) -> deadpool_postgres::Pool {
        let manager_config = deadpool_postgres::ManagerConfig {
            recycling_method: deadpool_postgres::RecyclingMethod::Fast,
        };
        let manager = match &self.tls {
            Some(tls) => deadpool_postgres::Manager::from_config(
                self.config.clone(),
                tls.clone(),
                manager_config,
            ),
            None => deadpool_postgres::Manager::from_config(
                self.config.clone(),
                tokio_postgres::NoTls,
                manager_config,
            ),
        };
        deadpool_postgres::Pool::builder(manager)
            .max_size(size)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(std::time::Duration::from_secs(30)))
            .create_timeout(Some(std::time::Duration::from_secs(10)))
            .build()
            // Only a missing runtime for the timeouts fails a build, and one is named above.
            .unwrap_or_else(|error| panic!("PostgreSQL pool: {error}"))
    }
}

/// The notifications a LISTEN connection receives, in order.
pub type Notifications = tokio::sync::mpsc::Receiver<tokio_postgres::Notification>;

async fn pass_notifications<S, T>(
    mut connection: tokio_postgres::Connection<S, T>,
    sender: tokio::sync::mpsc::Sender<tokio_postgres::Notification>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
    while let Some(message) = futures_util::StreamExt::next(&mut messages).await {
        match message {
            Ok(tokio_postgres::AsyncMessage::Notification(notification)) => {
                if sender.try_send(notification).is_err() {
                    tracing::warn!("dropped a PostgreSQL notification: too many wait to be read");
                }
            }
            Ok(_) => {}
            Err(error) => {
                tracing::warn!("a PostgreSQL listening connection failed: {error}");
                return;
            }
        }
    }
}

/// The password in `path`: a file others may not read, owned by root or by this process.
fn read_password(path: &Path) -> Result<String, PgSetupError> {
    let io = |source| PgSetupError::PasswordIo {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    let mode = meta.mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(PgSetupError::PasswordExposed {
            path: path.to_owned(),
            mode,
        });
    }
    let me = nix::unistd::geteuid().as_raw();
    if meta.uid() != 0 && meta.uid() != me {
        return Err(PgSetupError::PasswordForeign {
            path: path.to_owned(),
            owner: meta.uid(),
            me,
        });
    }
    let mut text = String::new();
    let read = file.take(MAX_PASSWORD_BYTES + 1).read_to_string(&mut text);
    let password = text.strip_suffix('\n').unwrap_or(&text);
    if read.is_err()
        || !meta.is_file()
        || text.len() as u64 > MAX_PASSWORD_BYTES
        || password.is_empty()
        || password.contains('\n')
    {
        return Err(PgSetupError::PasswordMalformed {
            path: path.to_owned(),
        });
    }
    Ok(password.to_owned())
}

fn read_roots(path: &Path) -> Result<rustls::RootCertStore, PgSetupError> {
    use rustls_pki_types::pem::PemObject;
    let error = |reason: String| PgSetupError::Ca {
        path: path.to_owned(),
        reason,
    };
    let mut roots = rustls::RootCertStore::empty();
    let certificates =
        rustls_pki_types::CertificateDer::pem_file_iter(path).map_err(|e| error(e.to_string()))?;
    for certificate in certificates {
        let certificate = certificate.map_err(|e| error(e.to_string()))?;
        roots.add(certificate).map_err(|e| error(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(error("it holds no certificate".to_owned()));
    }
    Ok(roots)
}

fn web_roots() -> rustls::RootCertStore {
    rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn settings(yaml: &str) -> Settings {
        crate::config::parse_settings(yaml).expect("valid settings")
    }

    #[test]
    fn the_password_comes_from_a_file_only_its_owner_reads() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("pw");
        std::fs::write(&path, "s3cret\n").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let yaml = format!(
            "store: postgres://speedrack@db.example/speedrack\nstore_password_file: {}\n",
            path.display()
        );
        let refused = PgTarget::from_settings(&settings(&yaml)).expect_err("refused");
        assert!(refused.to_string().contains("chmod 600"), "{refused}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let target = PgTarget::from_settings(&settings(&yaml)).expect("accepted");
        assert_eq!(target.config.get_password(), Some(&b"s3cret"[..]));
        assert!(!format!("{target:?}").contains("s3cret"));
    }

    #[test]
    fn a_ca_file_turns_tls_on_and_a_bad_one_is_named() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "not a certificate\n").expect("write");
        let yaml = format!(
            "store: postgres://speedrack@db.example/speedrack\nstore_ca_file: {}\n",
            path.display()
        );
        let refused = PgTarget::from_settings(&settings(&yaml)).expect_err("refused");
        assert!(refused.to_string().contains("ca.pem"), "{refused}");
        let plain = PgTarget::from_settings(&settings("store: postgres://s@db/s\n")).expect("ok");
        assert!(plain.tls.is_none());
        let asked =
            PgTarget::from_settings(&settings("store: postgres://s@db/s?sslmode=require\n"))
                .expect("ok");
        assert!(asked.tls.is_some());
    }

    /// Whether `target` reaches the server, and over TLS: what the server says of the
    /// connection it serves.
    fn connects_over_tls(target: &PgTarget) -> Result<bool, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let client = target
                .connect()
                .await
                .map_err(|error| format!("{error:?}"))?;
            let row = client
                .query_one(
                    "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                    &[],
                )
                .await
                .map_err(|error| error.to_string())?;
            Ok(row.get(0))
        })
    }

    #[test]
    fn a_real_server_is_reached_over_tls_only_when_its_certificate_checks_out() {
        let Some(server) = throwaway::server() else {
            return;
        };
        let url = server.tls_database();
        let with_ca = format!(
            "store: '{url}'\nstore_ca_file: {}\n",
            server.ca_file().display()
        );
        let target = PgTarget::from_settings(&settings(&with_ca)).expect("target");
        assert_eq!(connects_over_tls(&target), Ok(true));

        // The public web roots did not sign the throwaway authority: refused, not downgraded.
        let public = format!("store: '{url}?sslmode=require'\n");
        let target = PgTarget::from_settings(&settings(&public)).expect("target");
        let refused = connects_over_tls(&target).expect_err("an unknown issuer");
        assert!(refused.to_lowercase().contains("certificate"), "{refused}");

        // Another authority's certificate does not vouch for this server either.
        let dir = tempfile::tempdir().expect("temp dir");
        let other = dir.path().join("other-ca.pem");
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        std::fs::write(&other, params.self_signed(&key).expect("cert").pem()).expect("write");
        let wrong = format!("store: '{url}'\nstore_ca_file: {}\n", other.display());
        let target = PgTarget::from_settings(&settings(&wrong)).expect("target");
        assert!(
            connects_over_tls(&target).is_err(),
            "another authority's roots"
        );
    }
}
