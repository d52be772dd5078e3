//! A throwaway PostgreSQL server for tests: Debian's `initdb` and `pg_ctl` make and start a
//! cluster in a temp dir, as an unprivileged user when the tests run as root (PostgreSQL
//! refuses root), listening on a Unix socket in that dir and, for TLS, on a loopback port
//! with a certificate for `localhost` that a certificate authority made for it at its start
//! signed (`ca_file`). A watcher stops it and removes the dir when the test process exits,
//! however it exits. Each test gets a database of its own.
//!
//! Only tests use this (the black-box tests through the `throwaway-postgres` feature).

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The superuser `initdb` makes; trusted on the socket, which only the cluster's dir holds.
const SUPERUSER: &str = "speedrack";
/// The unprivileged user the server runs as when the tests run as root.
const SERVER_USER: &str = "nobody";
/// Where in the server's dir the authority's certificate is.
const CA_FILE: &str = "ca.pem";

/// A running throwaway server.
#[derive(Debug)]
pub struct Throwaway {
    socket_dir: PathBuf,
    bin: PathBuf,
    /// Its port, on the Unix socket and on 127.0.0.1 (where only TLS is offered).
    port: u16,
    databases: AtomicUsize,
}

/// The process's one server, started on first use; `None` when PostgreSQL is not installed
/// and `SPEEDRACK_REQUIRE_POSTGRES` is not set (the caller skips its test and says so).
/// Panics when it is installed but cannot start: a test environment defect to see at once.
pub fn server() -> Option<&'static Throwaway> {
    static SERVER: OnceLock<Option<Throwaway>> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            let Some(bin) = find_bin() else {
                assert!(
                    std::env::var_os("SPEEDRACK_REQUIRE_POSTGRES").is_none(),
                    "SPEEDRACK_REQUIRE_POSTGRES is set but initdb is not installed \
                     (apt-get install postgresql)"
                );
                eprintln!("PostgreSQL is not installed (initdb not found): test skipped");
                return None;
            };
            Some(start(bin))
        })
        .as_ref()
}

impl Throwaway {
    /// A new empty database; returns its `store:` URL, on the Unix socket.
    pub fn database(&self) -> String {
        let name = self.create();
        self.url(&name)
    }

    /// A new empty database; returns its `store:` URL over TCP to `localhost`, which
    /// offers TLS with a certificate [`Throwaway::ca_file`] signed.
    pub fn tls_database(&self) -> String {
        let name = self.create();
        format!("postgres://{SUPERUSER}@localhost:{}/{name}", self.port)
    }

    /// The PEM certificate of the authority that signed the server's.
    pub fn ca_file(&self) -> PathBuf {
        self.socket_dir.join(CA_FILE)
    }

    fn create(&self) -> String {
        let n = self.databases.fetch_add(1, Ordering::Relaxed);
        let name = format!("test_{}_{n}", std::process::id());
        let status = Command::new(self.bin.join("createdb"))
            .arg("-h")
            .arg(&self.socket_dir)
            .args(["-p", &self.port.to_string(), "-U", SUPERUSER, &name])
            .status()
            .expect("run createdb");
        assert!(status.success(), "createdb {name} failed");
        name
    }

    /// The URL of database `name` on this server.
    pub fn url(&self, name: &str) -> String {
        format!(
            "postgres:///{name}?user={SUPERUSER}&host={}&port={}",
            self.socket_dir.display(),
            self.port
        )
    }

    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }
}

/// `initdb`'s directory: on PATH, else Debian's versioned directories, newest first.
fn find_bin() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>());
    let mut debian: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin"))
        .collect();
    debian.sort_by(|a, b| b.cmp(a));
    on_path
        .chain(debian)
        .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
        .map(|dir| {
            std::fs::canonicalize(dir.join("initdb")).map_or(dir, |initdb| {
                initdb.parent().map(Path::to_path_buf).unwrap_or_default()
            })
        })
}

fn start(bin: PathBuf) -> Throwaway {
    let as_root = nix::unistd::geteuid().is_root();
    let dir = tempfile::Builder::new()
        .prefix("speedrack-pg-")
        .tempdir()
        .expect("temp dir for PostgreSQL")
        .keep();
    let data = dir.join("data");
    if as_root {
        let user = nix::unistd::User::from_name(SERVER_USER)
            .expect("read the user database")
            .unwrap_or_else(|| panic!("no user {SERVER_USER} to run PostgreSQL as"));
        nix::unistd::chown(&dir, Some(user.uid), Some(user.gid)).expect("chown the temp dir");
    }
    let server = |program: &str| {
        let mut command = if as_root {
            let mut command = Command::new("setpriv");
            command.args([
                "--reuid",
                SERVER_USER,
                "--regid",
                "nogroup",
                "--clear-groups",
                "--",
            ]);
            command.arg(bin.join(program));
            command
        } else {
            Command::new(bin.join(program))
        };
        command.env("LC_ALL", "C");
        command
    };
    let status = server("initdb")
        .args([
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
            "-U",
            SUPERUSER,
            "-D",
        ])
        .arg(&data)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run initdb");
    assert!(status.success(), "initdb in {} failed", data.display());
    write_certificates(&dir, &data, as_root);
    let port = free_port();
    let options = format!(
        "-c listen_addresses=127.0.0.1 -c port={port} -c ssl=on -k {} -c fsync=off \
         -c max_connections=200",
        dir.display()
    );
    let status = server("pg_ctl")
        .args(["-w", "-l"])
        .arg(dir.join("log"))
        .args(["-o", &options, "-D"])
        .arg(&data)
        .arg("start")
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run pg_ctl start");
    assert!(
        status.success(),
        "pg_ctl start failed; see {}",
        dir.join("log").display()
    );
    watch(&bin, &dir, &data, as_root);
    Throwaway {
        socket_dir: dir,
        bin,
        port,
        databases: AtomicUsize::new(0),
    }
}

/// A loopback port nobody listens on now (the server takes it a moment later).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    listener.local_addr().expect("its address").port()
}

/// An authority (its certificate in `dir`) and the server's certificate and key for
/// `localhost`, signed by it, in `data` where `ssl=on` looks for them; the key readable by the
/// server's user only, as PostgreSQL demands.
fn write_certificates(dir: &Path, data: &Path, as_root: bool) {
    use std::os::unix::fs::PermissionsExt;
    let ca_key = rcgen::KeyPair::generate().expect("a key for the authority");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "speedrack throwaway CA");
    let ca = ca_params
        .self_signed(&ca_key)
        .expect("the authority's certificate");
    let key = rcgen::KeyPair::generate().expect("a key for the server");
    let server = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .expect("params")
        .signed_by(&key, &ca, &ca_key)
        .expect("the server's certificate");
    std::fs::write(dir.join(CA_FILE), ca.pem()).expect("write the authority's certificate");
    let (crt, key_file) = (data.join("server.crt"), data.join("server.key"));
    std::fs::write(&crt, server.pem()).expect("write the server's certificate");
    std::fs::write(&key_file, key.serialize_pem()).expect("write the server's key");
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600))
        .expect("chmod the server's key");
    if as_root {
        let user = nix::unistd::User::from_name(SERVER_USER)
            .expect("read the user database")
            .unwrap_or_else(|| panic!("no user {SERVER_USER} to run PostgreSQL as"));
        for file in [&crt, &key_file] {
            nix::unistd::chown(file, Some(user.uid), Some(user.gid)).expect("chown a cert file");
        }
    }
}

/// Stops the server and removes its dir once this process has gone: a detached shell polls
/// for it, since a test process has no hook that runs at every kind of exit.
fn watch(bin: &Path, dir: &Path, data: &Path, as_root: bool) {
    let stop = format!(
        "{} {} -D '{}' -m immediate stop",
        if as_root {
            "setpriv --reuid nobody --regid nogroup --clear-groups --"
        } else {
            ""
        },
        bin.join("pg_ctl").display(),
        data.display()
    );
    let script = format!(
        "(while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf '{dir}') &",
        pid = std::process::id(),
        dir = dir.display()
    );
    let mut command = Command::new("sh");
    command
        .args(["-c", &script])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .process_group(0);
    // The shell backgrounds the watcher and exits, so the watcher outlives it unparented.
    let status = command.status().expect("start the PostgreSQL watcher");
    assert!(status.success(), "the PostgreSQL watcher did not start");
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_throwaway_server_serves_a_database_of_its_own() {
        let Some(server) = super::server() else {
            return;
        };
        let url = server.database();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let (client, connection) = url
                .parse::<tokio_postgres::Config>()
                .expect("url")
                .connect(tokio_postgres::NoTls)
                .await
                .expect("connect");
            tokio::spawn(connection);
            let row = client.query_one("SELECT 1 + 1", &[]).await.expect("query");
            assert_eq!(row.get::<_, i32>(0), 2);
        });
    }
}
