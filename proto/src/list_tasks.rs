//! Reading a whole task list: ListTasks page after page, started over when the daemon reloads
//! between two pages (ABORTED), within fixed bounds. Shared by every client; it owns neither
//! the connection nor timeouts (callers bound the whole read as they see fit).

use tonic::transport::Channel;
use tonic::{Code, Status};

use crate::v1::speedrack_client::SpeedrackClient;
use crate::v1::{ListTasksRequest, Task};

/// Pages read at most (each about `LIST_PAGE_BYTES`): a daemon whose list never ends is a bug
/// to report, not a reason to loop forever.
pub const MAX_PAGES: usize = 1000;
/// Times the list is started over because the daemon reloaded between two pages.
pub const MAX_RESTARTS: usize = 3;

/// Why the whole list could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ListTasksError {
    /// The daemon refused a page (after [`MAX_RESTARTS`] restarts, for ABORTED).
    #[error("{}", .0.message())]
    Status(#[from] Status),
    #[error(
        "speedrackd's task list did not end after {MAX_PAGES} pages; this is a bug in \
         speedrackd, please report it"
    )]
    Endless,
}

/// Every task, all pages read with `template` (its `page_token` is ignored).
pub async fn list_all_tasks(
    client: &mut SpeedrackClient<Channel>,
    template: ListTasksRequest,
) -> Result<Vec<Task>, ListTasksError> {
    let mut restarts = 0;
    loop {
        match all_pages(client, &template).await {
            Err(ListTasksError::Status(status))
                if status.code() == Code::Aborted && restarts < MAX_RESTARTS =>
            {
                restarts += 1;
            }
            outcome => return outcome,
        }
    }
}

async fn all_pages(
    client: &mut SpeedrackClient<Channel>,
    template: &ListTasksRequest,
) -> Result<Vec<Task>, ListTasksError> {
    let mut tasks = Vec::new();
    let mut page_token = String::new();
    for _ in 0..MAX_PAGES {
        let request = ListTasksRequest {
            page_token,
            ..template.clone()
        };
        let page = client.list_tasks(request).await?.into_inner();
        tasks.extend(page.tasks);
        if page.next_page_token.is_empty() {
            return Ok(tasks);
        }
        page_token = page.next_page_token;
    }
    Err(ListTasksError::Endless)
}
