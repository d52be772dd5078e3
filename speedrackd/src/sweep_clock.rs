//! The clock of the daemon's hourly history sweep: tokio-cron-scheduler sends the loop a
//! `Command::Sweep` (its 500 ms tick is harmless for a job this coarse). It only says
//! when; the sweep itself is the loop's. Task fires never go through it.

use tokio::sync::mpsc;
use tokio_cron_scheduler::{Job, JobScheduler, JobSchedulerError};

use crate::runtime::Command;

/// At minute 17 of every hour: off the round hours when tasks cluster.
const SWEEP: &str = "0 17 * * * *";

/// Starts the scheduler; the returned handle must be shut down at exit.
pub async fn start(commands: mpsc::Sender<Command>) -> Result<JobScheduler, JobSchedulerError> {
    let scheduler = JobScheduler::new().await?;
    let job = Job::new_async(SWEEP, move |_, _| {
        let commands = commands.clone();
        Box::pin(async move {
            // Full queue or stopped loop: the next hour sweeps again.
            let _ = commands.try_send(Command::Sweep);
        })
    })?;
    scheduler.add(job).await?;
    scheduler.start().await?;
    Ok(scheduler)
}
