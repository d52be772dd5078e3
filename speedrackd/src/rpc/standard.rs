//! The standard gRPC services served beside speedrack.v1: server reflection in both versions
//! (v1, and v1alpha, the only one Python's grpcio and older tools such as grpcurl < 1.8 speak)
//! and `grpc.health.v1` health checking.
//!
//! Owns their construction and the health statuses: SERVING for the server as a whole ("")
//! and for `speedrack.v1.Speedrack` from the start, NOT_SERVING from the moment shutdown
//! begins, while running tasks are still being waited for. Who may call them is decided by
//! the same interceptor as for speedrack.v1 (`auth.rs`); the speedrack.v1 handlers are not
//! here.

use speedrack_proto::v1::speedrack_server::SpeedrackServer;
use tonic::server::NamedService;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::server::Router;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use super::{Service, authorize};

/// The name health checks ask about for the whole server, as the health protocol defines it.
const WHOLE_SERVER: &str = "";

/// Sets the health statuses the daemon reports.
#[derive(Clone)]
pub struct Health {
    reporter: HealthReporter,
}

impl Health {
    /// Reports NOT_SERVING for the server and speedrack.v1: the daemon is stopping and takes
    /// no new work, though it still answers while running tasks finish.
    pub async fn stopping(&self) {
        for name in [WHOLE_SERVER, speedrack_name()] {
            self.reporter
                .set_service_status(name, ServingStatus::NotServing)
                .await;
        }
    }
}

fn speedrack_name() -> &'static str {
    <SpeedrackServer<Service> as NamedService>::NAME
}

/// Adds reflection (v1 and v1alpha) and health to `router`, each behind the same access rule
/// as speedrack.v1, and returns the handle that sets health.
pub async fn add_standard_services(
    router: Router,
    daemon_uid: u32,
    group: Option<u32>,
) -> Result<(Router, Health), tonic_reflection::server::Error> {
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status(speedrack_name(), ServingStatus::Serving)
        .await;
    let router = router
        .add_service(InterceptedService::new(
            reflection().build_v1()?,
            authorize(daemon_uid, group),
        ))
        .add_service(InterceptedService::new(
            reflection().build_v1alpha()?,
            authorize(daemon_uid, group),
        ))
        .add_service(InterceptedService::new(
            health,
            authorize(daemon_uid, group),
        ));
    Ok((router, Health { reporter }))
}

/// Reflection knows speedrack.v1 and grpc.health.v1, so that tools can call both by name.
fn reflection() -> tonic_reflection::server::Builder<'static> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(speedrack_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
}
