//! `next TASK`: a task's coming fire times, each in the offset its zone has at that instant,
//! printed exactly like `speedrackd schedule` prints them.

use chrono::{FixedOffset, SecondsFormat};
use speedrack_proto::v1::{Fire, ListNextFiresRequest, ListNextFiresResponse};

use super::{Context, Format, print_json, print_text};
use crate::render::time::instant;

pub async fn run(ctx: &mut Context, task: &str, count: u32) -> anyhow::Result<()> {
    let reply = ctx
        .client
        .list_next_fires(ListNextFiresRequest {
            task: task.to_owned(),
            count,
        })
        .await?;
    let response = reply.into_inner();
    match ctx.format {
        Format::Json => print_json(&json(&response)),
        Format::Text => print_text(&render(&response)),
    }
}

/// One line per fire; an unparseable fire (never sent by a sound daemon) is left out.
fn render(response: &ListNextFiresResponse) -> String {
    response
        .fires
        .iter()
        .filter_map(rfc3339)
        .map(|line| line + "\n")
        .collect()
}

fn rfc3339(fire: &Fire) -> Option<String> {
    let at = instant(fire.at.as_ref()?)?;
    let offset = FixedOffset::east_opt(fire.utc_offset_seconds)?;
    Some(
        at.with_timezone(&offset)
            .to_rfc3339_opts(SecondsFormat::Secs, false),
    )
}

fn json(response: &ListNextFiresResponse) -> serde_json::Value {
    serde_json::json!({
        "fires": response.fires.iter().filter_map(rfc3339).collect::<Vec<_>>(),
        "timezone": response.timezone,
        "schedule": response.schedule,
    })
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;

    fn fire(seconds: i64, offset: i32) -> Fire {
        Fire {
            at: Some(prost_types::Timestamp { seconds, nanos: 0 }),
            utc_offset_seconds: offset,
        }
    }

    #[test]
    fn prints_each_fire_in_its_own_offset() {
        // 2026-03-28 22:00 UTC (CET, +1) and 2026-03-29 22:00 UTC (CEST, +2).
        let response = ListNextFiresResponse {
            fires: vec![fire(1_774_735_200, 3600), fire(1_774_821_600, 7200)],
            timezone: "Europe/Berlin".into(),
            schedule: "cron {hour: 23}".into(),
        };
        assert_eq!(
            render(&response),
            "2026-03-28T23:00:00+01:00\n2026-03-30T00:00:00+02:00\n"
        );
        assert_eq!(json(&response)["fires"][1], "2026-03-30T00:00:00+02:00");
    }

    /// Daily at 23:00 in Europe/Berlin across the end of summer time (Sunday 2026-10-25), with
    /// one fire that has no instant, as a broken daemon might send.
    fn autumn() -> ListNextFiresResponse {
        ListNextFiresResponse {
            fires: vec![
                fire(1_792_875_600, 7200), // 2026-10-24 21:00 UTC
                fire(1_792_965_600, 3600), // 2026-10-25 22:00 UTC
                Fire {
                    at: None,
                    utc_offset_seconds: 3600,
                },
                fire(1_793_052_000, 3600), // 2026-10-26 22:00 UTC
            ],
            timezone: "Europe/Berlin".into(),
            schedule: "cron {hour: 23, minute: 0}".into(),
        }
    }

    #[test]
    fn fires_across_the_end_of_summer_time_keep_their_wall_clock_and_skip_a_fire_without_an_instant()
     {
        expect![[r#"
            2026-10-24T23:00:00+02:00
            2026-10-25T23:00:00+01:00
            2026-10-26T23:00:00+01:00
        "#]]
        .assert_eq(&render(&autumn()));
    }

    #[test]
    fn json_lists_the_fires_with_the_zone_and_the_schedule_as_written() {
        let json = serde_json::to_string_pretty(&json(&autumn())).expect("serializable");
        expect![[r#"
            {
              "fires": [
                "2026-10-24T23:00:00+02:00",
                "2026-10-25T23:00:00+01:00",
                "2026-10-26T23:00:00+01:00"
              ],
              "schedule": "cron {hour: 23, minute: 0}",
              "timezone": "Europe/Berlin"
            }"#]]
        .assert_eq(&json);
    }
}
