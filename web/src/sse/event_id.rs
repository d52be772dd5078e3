//! The `id:` of a relayed event, `EPOCH-SEQUENCE`, and reading it back from the `Last-Event-ID`
//! header of a browser that reconnects, so that its relay resumes where the last one stopped.
//!
//! It owns only the format; what an id stands for (the newest daemon event whose effect the
//! browser has been sent) is decided in `relay.rs`.

use std::fmt;

use speedrack_proto::v1 as pb;

/// One daemon event: `WatchEventsResponse.{epoch, sequence}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventId {
    pub epoch: u64,
    pub sequence: u64,
}

impl EventId {
    /// The id of a message, if it has one (EventsDropped, and daemons that do not number their
    /// events, send sequence 0).
    pub fn of(message: &pb::WatchEventsResponse) -> Option<EventId> {
        (message.sequence > 0).then_some(EventId {
            epoch: message.epoch,
            sequence: message.sequence,
        })
    }

    /// Reads `EPOCH-SEQUENCE` (decimal, digits only); anything else is no id, and the browser
    /// is treated as a new one.
    pub fn parse(text: &str) -> Option<EventId> {
        let (epoch, sequence) = text.split_once('-')?;
        let number = |digits: &str| {
            let plain = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
            plain.then(|| digits.parse::<u64>().ok()).flatten()
        };
        let id = EventId {
            epoch: number(epoch)?,
            sequence: number(sequence)?,
        };
        (id.sequence > 0).then_some(id)
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.epoch, self.sequence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_reads_back_as_written() {
        let id = EventId {
            epoch: 1_764_539_000_123_456,
            sequence: 42,
        };
        assert_eq!(id.to_string(), "1764539000123456-42");
        assert_eq!(EventId::parse(&id.to_string()), Some(id));
        let largest = format!("{}-{}", u64::MAX, u64::MAX);
        assert_eq!(
            EventId::parse(&largest).map(|id| id.sequence),
            Some(u64::MAX)
        );
    }

    #[test]
    fn anything_else_is_no_id() {
        for text in [
            "",
            "-",
            "1",
            "1-",
            "-1",
            "1-0",
            "1-2-3",
            "a-1",
            "1-a",
            "+1-2",
            "1-+2",
            " 1-2",
            "1-2 ",
            "18446744073709551616-1",
            "1-18446744073709551616",
        ] {
            assert_eq!(EventId::parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn only_numbered_events_have_an_id() {
        let message = |sequence| pb::WatchEventsResponse {
            sequence,
            epoch: 7,
            ..pb::WatchEventsResponse::default()
        };
        assert_eq!(EventId::of(&message(0)), None);
        assert_eq!(
            EventId::of(&message(3)),
            Some(EventId {
                epoch: 7,
                sequence: 3
            })
        );
    }
}
