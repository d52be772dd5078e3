//! The gateway's client of speedrackd: a lazily (re)connected gRPC channel, and the one mapping
//! from API errors to HTTP status codes.
//!
//! It connects on first use and forgets the connection when the daemon becomes unavailable, so
//! the next request reconnects: the gateway outlives daemon restarts. It does not render
//! anything, and it does not retry a failed call: a failed call is an answer to show. It does
//! follow a list's pages, and starts a list over when a reload came between two pages.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use axum::http::StatusCode;
use speedrack_proto::ListTasksError;
use speedrack_proto::v1 as pb;
use speedrack_proto::v1::speedrack_client::SpeedrackClient;
use tonic::transport::Channel;
use tonic::{Code, Status, Streaming};

type Client = SpeedrackClient<Channel>;

/// How long one unary call may take before the page says the daemon did not answer.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// How long reading a whole task list (all its pages, restarts included) may take.
const LIST_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a call gave no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// No daemon answers on the socket (or it is shutting down).
    #[error("speedrackd is unreachable at {socket}: {reason}")]
    Unreachable { socket: String, reason: String },
    /// The daemon answered with an error.
    #[error("{message}")]
    Status { code: Code, message: String },
}

impl ApiError {
    /// The HTTP status a page shows for this error.
    pub fn http_status(&self) -> StatusCode {
        match self {
            ApiError::Unreachable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Status { code, .. } => http_status_of(*code),
        }
    }

    /// The socket, when the daemon could not be reached (for the banner).
    pub fn unreachable_socket(&self) -> Option<&str> {
        match self {
            ApiError::Unreachable { socket, .. } => Some(socket),
            ApiError::Status { .. } => None,
        }
    }

    fn status(status: &Status) -> ApiError {
        let message = match status.code() {
            // tonic's own code for a message over the size limit, on either side of the socket:
            // the daemon broke its promise to keep replies small, not the browser's request.
            Code::OutOfRange => format!(
                "speedrackd's reply was too large to relay ({}); this is a bug in speedrackd, \
                 please report it",
                status.message()
            ),
            _ => status.message().to_owned(),
        };
        ApiError::Status {
            code: status.code(),
            message,
        }
    }
}

/// gRPC codes as HTTP statuses. The gateway is a gateway: the daemon's own failures are 502.
/// OUT_OF_RANGE is what tonic reports for a reply over the size limit, so it is one of them:
/// no request the gateway makes is out of range of its own.
pub fn http_status_of(code: Code) -> StatusCode {
    match code {
        Code::Ok => StatusCode::OK,
        Code::InvalidArgument => StatusCode::BAD_REQUEST,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::AlreadyExists | Code::FailedPrecondition | Code::Aborted => StatusCode::CONFLICT,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        Code::Cancelled => StatusCode::BAD_GATEWAY,
        Code::Unknown | Code::Internal | Code::DataLoss | Code::OutOfRange => {
            StatusCode::BAD_GATEWAY
        }
    }
}

/// A connection to speedrackd, made when first needed.
pub struct Api {
    socket: PathBuf,
    client: tokio::sync::Mutex<Option<Client>>,
}

impl Api {
    pub fn new(socket: PathBuf) -> Api {
        Api {
            socket,
            client: tokio::sync::Mutex::new(None),
        }
    }

    fn unreachable(&self, reason: impl Into<String>) -> ApiError {
        ApiError::Unreachable {
            socket: self.socket.display().to_string(),
            reason: reason.into(),
        }
    }

    async fn client(&self) -> Result<Client, ApiError> {
        let mut cached = self.client.lock().await;
        if let Some(client) = cached.as_ref() {
            return Ok(client.clone());
        }
        let client = speedrack_proto::connect(&self.socket)
            .await
            .map_err(|error| match error {
                speedrack_proto::ConnectError::Unreachable { reason, .. } => {
                    self.unreachable(reason)
                }
                // Says whose group the gateway's user needs, not just "permission denied".
                speedrack_proto::ConnectError::Denied(denied) => {
                    self.unreachable(denied.to_string())
                }
            })?;
        *cached = Some(client.clone());
        Ok(client)
    }

    /// The error a failed call shows; an unavailable daemon drops the connection, so the next
    /// call reconnects.
    async fn failed(&self, status: &Status) -> ApiError {
        if status.code() == Code::Unavailable {
            *self.client.lock().await = None;
            return self.unreachable(status.message());
        }
        ApiError::status(status)
    }

    fn no_answer(&self, waited: Duration) -> ApiError {
        ApiError::Status {
            code: Code::DeadlineExceeded,
            message: format!(
                "speedrackd at {} did not answer within {} s",
                self.socket.display(),
                waited.as_secs()
            ),
        }
    }

    /// Makes one call. An unavailable daemon drops the connection, so the next call reconnects.
    pub async fn call<T, F, Fut>(&self, call: F) -> Result<T, ApiError>
    where
        F: FnOnce(Client) -> Fut,
        Fut: Future<Output = Result<tonic::Response<T>, Status>>,
    {
        let client = self.client().await?;
        match tokio::time::timeout(CALL_TIMEOUT, call(client)).await {
            Ok(Ok(response)) => Ok(response.into_inner()),
            Ok(Err(status)) => Err(self.failed(&status).await),
            Err(_) => Err(self.no_answer(CALL_TIMEOUT)),
        }
    }

    /// Every task, all pages read; started over when the daemon reloads midway.
    pub async fn list_tasks(&self, recent_runs: u32) -> Result<Vec<pb::Task>, ApiError> {
        let template = pb::ListTasksRequest {
            recent_runs,
            page_token: String::new(),
            with_command: false,
        };
        let mut client = self.client().await?;
        let listed = speedrack_proto::list_all_tasks(&mut client, template);
        match tokio::time::timeout(LIST_TIMEOUT, listed).await {
            Ok(Ok(tasks)) => Ok(tasks),
            Ok(Err(ListTasksError::Status(status))) => Err(self.failed(&status).await),
            Ok(Err(endless @ ListTasksError::Endless)) => Err(ApiError::Status {
                code: Code::Internal,
                message: endless.to_string(),
            }),
            Err(_) => Err(self.no_answer(LIST_TIMEOUT)),
        }
    }

    pub async fn get_task(&self, name: &str) -> Result<pb::Task, ApiError> {
        let request = pb::GetTaskRequest {
            name: name.to_owned(),
        };
        let response = self
            .call(|mut c| async move { c.get_task(request).await })
            .await?;
        response.task.ok_or_else(|| missing("GetTask", "task"))
    }

    pub async fn list_runs(
        &self,
        task: &str,
        page_size: u32,
        page_token: &str,
    ) -> Result<pb::ListRunsResponse, ApiError> {
        let request = pb::ListRunsRequest {
            task: task.to_owned(),
            page_size,
            page_token: page_token.to_owned(),
            ..Default::default()
        };
        self.call(|mut c| async move { c.list_runs(request).await })
            .await
    }

    pub async fn get_run(&self, run_id: i64) -> Result<pb::Run, ApiError> {
        let request = pb::GetRunRequest { run_id };
        let response = self
            .call(|mut c| async move { c.get_run(request).await })
            .await?;
        response.run.ok_or_else(|| missing("GetRun", "run"))
    }

    pub async fn read_output(
        &self,
        run_id: i64,
        stream: pb::OutputStream,
        offset: u64,
        length: u64,
    ) -> Result<pb::ReadOutputResponse, ApiError> {
        let request = pb::ReadOutputRequest {
            run_id,
            stream: stream.into(),
            offset,
            length,
        };
        self.call(|mut c| async move { c.read_output(request).await })
            .await
    }

    /// A run started, or queued behind the running ones (`queued`, without a run).
    pub async fn run_now(
        &self,
        task: &str,
        on_behalf_of: &str,
    ) -> Result<pb::RunNowResponse, ApiError> {
        let request = pb::RunNowRequest {
            task: task.to_owned(),
            on_behalf_of: on_behalf_of.to_owned(),
        };
        let response = self
            .call(|mut c| async move { c.run_now(request).await })
            .await?;
        if response.run.is_none() && !response.queued {
            return Err(missing("RunNow", "run"));
        }
        Ok(response)
    }

    pub async fn suspend(&self, task: &str, on_behalf_of: &str) -> Result<(), ApiError> {
        let request = pb::SuspendRequest {
            task: task.to_owned(),
            on_behalf_of: on_behalf_of.to_owned(),
        };
        self.call(|mut c| async move { c.suspend(request).await })
            .await
            .map(drop)
    }

    pub async fn resume(&self, task: &str, on_behalf_of: &str) -> Result<(), ApiError> {
        let request = pb::ResumeRequest {
            task: task.to_owned(),
            on_behalf_of: on_behalf_of.to_owned(),
        };
        self.call(|mut c| async move { c.resume(request).await })
            .await
            .map(drop)
    }

    /// Ends the task's running runs, or only `run` (0: all of them): the ids of those asked to
    /// end, and the nodes a kill of the whole task did not reach.
    pub async fn kill(
        &self,
        task: &str,
        run_id: i64,
        on_behalf_of: &str,
    ) -> Result<pb::KillResponse, ApiError> {
        let request = pb::KillRequest {
            task: task.to_owned(),
            on_behalf_of: on_behalf_of.to_owned(),
            run_id,
        };
        let response = self
            .call(|mut c| async move { c.kill(request).await })
            .await?;
        Ok(response)
    }

    pub async fn reload(&self, on_behalf_of: &str) -> Result<pb::ReloadResponse, ApiError> {
        let request = pb::ReloadRequest {
            on_behalf_of: on_behalf_of.to_owned(),
        };
        self.call(|mut c| async move { c.reload(request).await })
            .await
    }

    pub async fn get_config(&self) -> Result<pb::GetConfigResponse, ApiError> {
        self.call(|mut c| async move { c.get_config(pb::GetConfigRequest {}).await })
            .await
    }

    pub async fn get_status(&self) -> Result<pb::GetStatusResponse, ApiError> {
        self.call(|mut c| async move { c.get_status(pb::GetStatusRequest {}).await })
            .await
    }

    /// The daemon's metrics as Prometheus text, in chunks of whole lines, ready to serve.
    pub async fn scrape_metrics(&self) -> Result<Streaming<pb::ScrapeMetricsResponse>, ApiError> {
        self.call(|mut c| async move { c.scrape_metrics(pb::ScrapeMetricsRequest {}).await })
            .await
    }

    /// The daemon's events after `after_sequence` of `epoch` (both 0: from the next one).
    pub async fn watch(
        &self,
        epoch: u64,
        after_sequence: u64,
    ) -> Result<Streaming<pb::WatchEventsResponse>, ApiError> {
        let request = pb::WatchEventsRequest {
            after_sequence,
            epoch,
        };
        self.call(|mut c| async move { c.watch_events(request).await })
            .await
    }

    pub async fn tail(
        &self,
        run_id: i64,
        stream: pb::OutputStream,
        offset: u64,
    ) -> Result<Streaming<pb::TailOutputResponse>, ApiError> {
        let request = pb::TailOutputRequest {
            run_id,
            stream: stream.into(),
            offset,
        };
        self.call(|mut c| async move { c.tail_output(request).await })
            .await
    }
}

/// A response without the message the contract promises: the daemon broke the contract.
fn missing(rpc: &str, field: &str) -> ApiError {
    ApiError::Status {
        code: Code::Internal,
        message: format!("speedrackd answered {rpc} without a {field}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_errors_map_to_http_statuses() {
        let cases = [
            (Code::NotFound, 404),
            (Code::FailedPrecondition, 409),
            (Code::InvalidArgument, 400),
            (Code::Unavailable, 503),
            (Code::PermissionDenied, 403),
            (Code::DeadlineExceeded, 504),
            (Code::Unimplemented, 501),
            (Code::Internal, 502),
            (Code::OutOfRange, 502),
        ];
        for (code, http) in cases {
            assert_eq!(http_status_of(code).as_u16(), http, "{code:?}");
        }
        let unreachable = ApiError::Unreachable {
            socket: "/s".to_owned(),
            reason: "gone".to_owned(),
        };
        assert_eq!(unreachable.http_status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            unreachable.to_string(),
            "speedrackd is unreachable at /s: gone"
        );
    }

    #[test]
    fn an_oversized_reply_is_a_bad_gateway_that_says_so() {
        // What tonic says when a reply passes the decoding limit.
        let status = Status::out_of_range(
            "Error, decoded message length too large: found 5808192 bytes, the limit is: \
             4194304 bytes",
        );
        let error = ApiError::status(&status);
        assert_eq!(error.http_status(), StatusCode::BAD_GATEWAY);
        assert_eq!(
            error.to_string(),
            "speedrackd's reply was too large to relay (Error, decoded message length too \
             large: found 5808192 bytes, the limit is: 4194304 bytes); this is a bug in \
             speedrackd, please report it"
        );
    }

    #[tokio::test]
    async fn a_missing_daemon_is_unreachable_not_a_crash() {
        let dir = std::env::temp_dir().join("speedrack-web-test-no-daemon.sock");
        let api = Api::new(dir.clone());
        let error = api.get_status().await.expect_err("nobody listens");
        assert_eq!(
            error.unreachable_socket(),
            Some(dir.display().to_string().as_str())
        );
    }
}
