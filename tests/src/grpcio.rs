//! Python's grpcio, a gRPC implementation that shares no code with tonic, as a black-box client
//! of the daemon's standard services (reflection v1alpha, health).
//!
//! The interpreter is `$SPEEDRACK_PYTHON` (`.ci/run` points it at a venv with grpcio,
//! grpcio-reflection and grpcio-health-checking), else `python3`. Without those modules the
//! tests say so loudly and skip, unless SPEEDRACK_REQUIRE_GRPCIO=1 (CI sets it), where their
//! absence fails them. What to ask and what to assert is the tests' business.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;

use crate::WAIT;

/// The interpreter to use, when set.
const PYTHON_ENV: &str = "SPEEDRACK_PYTHON";
/// Set to 1 where missing grpcio must fail the tests instead of skipping them.
const REQUIRE_ENV: &str = "SPEEDRACK_REQUIRE_GRPCIO";

/// The client: `python SCRIPT MODE SOCKET [ARGS...]`. Modes: `list` prints the services that
/// reflection v1alpha lists, one a line; `describe SYMBOL` prints the file v1alpha reflection
/// returns for it; `check NAME...` prints each name's health status; `watch NAME` prints its
/// health status at every change.
const SCRIPT: &str = r#"
import sys, grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from google.protobuf import descriptor_pb2
mode, socket, args = sys.argv[1], sys.argv[2], sys.argv[3:]
# Over a Unix socket grpcio would send the path as the HTTP/2 authority, which is no valid
# authority; "localhost" is what the README tells every client to send.
channel = grpc.insecure_channel(
    "unix:" + socket, options=[("grpc.default_authority", "localhost")])
grpc.channel_ready_future(channel).result(timeout=15)
status_name = health_pb2.HealthCheckResponse.ServingStatus.Name
if mode == "list":
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    for reply in stub.ServerReflectionInfo(iter([request]), timeout=15):
        for service in reply.list_services_response.service:
            print(service.name)
elif mode == "describe":
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    request = reflection_pb2.ServerReflectionRequest(file_containing_symbol=args[0])
    for reply in stub.ServerReflectionInfo(iter([request]), timeout=15):
        for encoded in reply.file_descriptor_response.file_descriptor_proto:
            print(descriptor_pb2.FileDescriptorProto.FromString(encoded).name)
elif mode == "check":
    stub = health_pb2_grpc.HealthStub(channel)
    for name in args:
        reply = stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=15)
        print(repr(name), status_name(reply.status))
elif mode == "watch":
    stub = health_pb2_grpc.HealthStub(channel)
    for reply in stub.Watch(health_pb2.HealthCheckRequest(service=args[0]), timeout=60):
        print(status_name(reply.status), flush=True)
"#;

/// A Python interpreter with grpcio and its reflection and health modules.
pub struct Grpcio {
    python: String,
}

impl Grpcio {
    /// Finds the interpreter, or says loudly why not and returns `None` (skip the test).
    pub fn find() -> Option<Grpcio> {
        let python = std::env::var(PYTHON_ENV).unwrap_or_else(|_| "python3".to_owned());
        let probe = Command::new(&python)
            .args(["-c", "import grpc, grpc_reflection, grpc_health"])
            .output();
        let why = match probe {
            Ok(output) if output.status.success() => return Some(Grpcio { python }),
            Ok(output) => String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            Err(error) => error.to_string(),
        };
        let required = std::env::var(REQUIRE_ENV).is_ok_and(|value| value == "1");
        let message = format!(
            "grpcio test needs {python} with grpcio, grpcio-reflection and \
             grpcio-health-checking (pip install them, or set {PYTHON_ENV}): {why}"
        );
        assert!(!required, "{message}; {REQUIRE_ENV}=1 makes this a failure");
        eprintln!("\n*** SKIPPED: {message} ***\n");
        None
    }

    fn command(&self, mode: &str, socket: &Path, args: &[&str]) -> Command {
        let mut command = Command::new(&self.python);
        command
            .args(["-c", SCRIPT, mode])
            .arg(socket)
            .args(args)
            .stdin(Stdio::null());
        command
    }

    /// Runs one request to completion and returns its stdout lines; panics with stderr when
    /// the client failed.
    pub fn ask(&self, mode: &str, socket: &Path, args: &[&str]) -> Vec<String> {
        let Output {
            status,
            stdout,
            stderr,
        } = self
            .command(mode, socket, args)
            .output()
            .expect("python runs");
        assert!(
            status.success(),
            "grpcio {mode} failed: {}",
            String::from_utf8_lossy(&stderr)
        );
        String::from_utf8_lossy(&stdout)
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Starts a health watch of `service`; its statuses arrive on the returned receiver.
    pub fn watch(&self, socket: &Path, service: &str) -> Watch {
        let mut child = self
            .command("watch", socket, &[service])
            .stdout(Stdio::piped())
            .spawn()
            .expect("python runs");
        let lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
        let (sender, statuses) = mpsc::channel();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if sender.send(line).is_err() {
                    return;
                }
            }
        });
        Watch { child, statuses }
    }
}

/// A running health watch; the client is killed when this is dropped.
pub struct Watch {
    child: Child,
    statuses: mpsc::Receiver<String>,
}

impl Watch {
    /// The next status the server sent, waiting up to `WAIT`.
    pub fn next(&self) -> String {
        self.statuses
            .recv_timeout(WAIT)
            .expect("the health watch reports a status")
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
