//! The standard gRPC services, asked by Python's grpcio (no tonic on the client side):
//! reflection v1alpha lists and describes speedrack.v1 (older tools speak only v1alpha), and
//! grpc.health.v1 answers SERVING, then NOT_SERVING once shutdown begins.

use nix::sys::signal::Signal;
use nix::unistd::Pid;
use speedrack_tests::Daemon;
use speedrack_tests::files::Gate;
use speedrack_tests::grpcio::Grpcio;

const SERVICE: &str = "speedrack.v1.Speedrack";

#[test]
fn reflection_v1alpha_lists_and_describes_the_service() {
    let Some(grpcio) = Grpcio::find() else { return };
    let daemon = Daemon::start("tasks: []\n");
    let services = grpcio.ask("list", &daemon.socket(), &[]);
    for wanted in [
        SERVICE,
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    ] {
        assert!(
            services.iter().any(|name| name == wanted),
            "{wanted} in {services:?}"
        );
    }
    let files = grpcio.ask("describe", &daemon.socket(), &[SERVICE]);
    assert!(
        files
            .iter()
            .any(|name| name == "speedrack/v1/speedrack.proto"),
        "{files:?}"
    );
}

#[test]
fn health_is_serving_then_not_serving_once_shutdown_begins() {
    let Some(grpcio) = Grpcio::find() else { return };
    let gate = Gate::new();
    let daemon = Daemon::start(&format!(
        "tasks:\n  - {{name: holder, command: '{}', interval: 400w}}\n",
        gate.wait()
    ));
    let checked = grpcio.ask("check", &daemon.socket(), &["", SERVICE]);
    assert_eq!(
        checked,
        ["'' SERVING", &format!("'{SERVICE}' SERVING")],
        "the server and the service"
    );

    // A running task keeps the daemon in its shutdown grace, still answering, after SIGTERM.
    daemon.ctl().ok(&["run-now", "holder"]);
    let hold = gate.hold();
    let watch = grpcio.watch(&daemon.socket(), SERVICE);
    assert_eq!(watch.next(), "SERVING");
    let pid = Pid::from_raw(i32::try_from(daemon.pid()).expect("pid fits"));
    nix::sys::signal::kill(pid, Signal::SIGTERM).expect("signal the daemon");
    assert_eq!(watch.next(), "NOT_SERVING", "during the shutdown grace");
    drop(hold);
}
