//! Cutting list replies by their encoded size, so that no reply outgrows the wire however many
//! tasks or runs there are.
//!
//! It counts bytes; which items to read and how a page token looks is each list's business.

use prost::Message;
use speedrack_proto::LIST_PAGE_BYTES;

/// What a page has used of its byte budget.
#[derive(Debug)]
pub struct Budget {
    used: usize,
    limit: usize,
}

impl Budget {
    /// A page's budget: `LIST_PAGE_BYTES`.
    pub fn page() -> Budget {
        Budget::of(LIST_PAGE_BYTES)
    }

    pub(super) fn of(limit: usize) -> Budget {
        Budget { used: 0, limit }
    }

    /// Whether `item` still fits on the page, counting it when it does. The first item always
    /// fits, so that every page makes progress: items are bounded (`convert::MAX_TEXT`), so
    /// one alone stays far below what a client accepts.
    pub fn admit(&mut self, item: &impl Message) -> bool {
        // A repeated field's element costs its tag (1 byte here) and its length's varint.
        let length = item.encoded_len();
        let size = 1 + prost::length_delimiter_len(length) + length;
        if self.used > 0 && self.used.saturating_add(size) > self.limit {
            return false;
        }
        self.used = self.used.saturating_add(size);
        true
    }
}

#[cfg(test)]
mod tests {
    use speedrack_proto::v1 as pb;

    use super::*;

    fn run_with(text_len: usize) -> pb::Run {
        pb::Run {
            op_error: "x".repeat(text_len),
            ..pb::Run::default()
        }
    }

    #[test]
    fn a_page_holds_what_fits_and_at_least_one_item() {
        let item = run_with(97);
        let size = item.encoded_len() + 2;
        let mut budget = Budget::of(size * 3);
        assert!(budget.admit(&item));
        assert!(budget.admit(&item));
        assert!(budget.admit(&item));
        assert!(!budget.admit(&item), "a fourth passes the budget");

        let mut tiny = Budget::of(10);
        assert!(tiny.admit(&run_with(1000)), "the first item always fits");
        assert!(!tiny.admit(&run_with(0)));
    }

    #[test]
    fn the_budget_matches_the_encoded_reply() {
        let mut budget = Budget::of(usize::MAX);
        let runs: Vec<pb::Run> = (0..50).map(|n| run_with(n * 300)).collect();
        for run in &runs {
            assert!(budget.admit(run));
        }
        let reply = pb::ListRunsResponse {
            runs,
            ..pb::ListRunsResponse::default()
        };
        assert_eq!(budget.used, reply.encoded_len());
    }
}
