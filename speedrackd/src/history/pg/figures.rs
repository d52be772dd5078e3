//! Figures, not checks: what one run costs the PostgreSQL history (start, end, output copy),
//! beside SQLite on the same machine. Ignored by default; run
//! `cargo test --release -p speedrackd history::pg::figures -- --ignored --nocapture`.

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};

use crate::config::TaskName;
use crate::history::output::{Stream, stream_path};
use crate::history::{Claim, NewRun, SqliteStore, Store};
use crate::run::{RunEnd, RunId, RunStatus, Trigger};

const RUNS: i64 = 400;

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + seconds, 0)
        .single()
        .expect("valid instant")
}

/// Median and 99th percentile, in µs.
fn spread(mut samples: Vec<Duration>) -> String {
    samples.sort_unstable();
    let pick = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize].as_micros();
    format!("p50 {} µs, p99 {} µs", pick(0.5), pick(0.99))
}

/// Starts and ends `RUNS` runs one at a time, each leaving `output` on stdout; prints the
/// latencies of each.
fn one_at_a_time(label: &str, store: &dyn Store, task: &TaskName, output: &[u8], from: i64) {
    let (mut starts, mut ends) = (Vec::new(), Vec::new());
    for second in from..from + RUNS {
        let run = NewRun {
            task,
            trigger: &Trigger::Schedule,
            scheduled_at: at(second),
            started_at: at(second),
            definition: "name: figures\ncommand: true\n",
            pays_owed: false,
            claim: Claim::Cluster,
        };
        let clock = Instant::now();
        let ids = store
            .record_starts(&[(task.clone(), at(second))], &[], &[run])
            .expect("start");
        starts.push(clock.elapsed());
        let id: RunId = ids[0].expect("claimed");
        if !output.is_empty() {
            let path = stream_path(store.data_dir(), task, id, Stream::Stdout);
            std::fs::create_dir_all(path.parent().expect("run dir")).expect("run dir");
            std::fs::write(&path, output).expect("stdout");
        }
        let mut end = RunEnd::bare(at(second), RunStatus::Success, String::new());
        end.stdout_bytes = output.len() as u64;
        let clock = Instant::now();
        store.finish_run(id, &end).expect("finish");
        ends.push(clock.elapsed());
    }
    println!("{label}: start {}; end {}", spread(starts), spread(ends));
}

/// Log-like text: compresses as real output mostly does.
fn text(bytes: usize) -> Vec<u8> {
    let line = b"2026-12-01 06:30:00 INFO backup: copied 1234 files to /srv/backup/2026-12-01\n";
    line.iter().copied().cycle().take(bytes).collect()
}

/// Bytes no compressor shrinks.
fn noise(bytes: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    (0..bytes)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

#[test]
#[ignore = "prints figures; run with --ignored --nocapture"]
fn figures() {
    let Some(server) = crate::postgres::throwaway::server() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = SqliteStore::open(dir.path()).expect("sqlite");
    let task = TaskName::normalise("figures").expect("name");
    one_at_a_time("sqlite, no output", &sqlite, &task, b"", 0);
    one_at_a_time("sqlite, 1 KiB", &sqlite, &task, &text(1 << 10), RUNS);

    let url = server.database();
    let pg_dir = tempfile::tempdir().expect("temp dir");
    let pg = super::tests::connect(&url, "a", pg_dir.path());
    let cases: [(&str, Vec<u8>); 5] = [
        ("no output", Vec::new()),
        ("1 KiB text", text(1 << 10)),
        ("64 KiB text", text(64 << 10)),
        ("64 KiB noise", noise(64 << 10)),
        ("1 MiB noise", noise(1 << 20)),
    ];
    for (index, (label, output)) in cases.iter().enumerate() {
        let before = output_table_bytes(&pg);
        let from = 10_000 * (index as i64 + 1);
        one_at_a_time(&format!("postgres, {label}"), &pg, &task, output, from);
        let per_run = (output_table_bytes(&pg) - before) / RUNS;
        println!(
            "  run_output grows {per_run} bytes per run for {} bytes",
            output.len()
        );
    }
}

/// Bytes `run_output` takes on disk with its TOAST table and index.
fn output_table_bytes(store: &super::PgStore) -> i64 {
    store
        .worker
        .call("measure run_output", |client| async move {
            let row = client
                .query_one("SELECT pg_total_relation_size('run_output')", &[])
                .await?;
            Ok(row.try_get(0)?)
        })
        .expect("size")
}
