//! What only the PostgreSQL backend promises, beyond the `Store` suite every backend passes
//! (`history::tests`): several nodes on one database. Each test makes a fresh database on the
//! throwaway server and returns early when PostgreSQL is not installed.

use std::path::Path;

use chrono::{DateTime, TimeZone, Utc};

use super::*;
use crate::history::output::{Stream, stream_path};
use crate::history::{Claim, LostRun, NewRun, Store};
use crate::run::RunStatus;

/// The target of a `store:` URL, as the settings make it.
pub fn target(url: &str) -> PgTarget {
    let settings = crate::config::parse_settings(&format!("store: \"{url}\"\n")).expect("settings");
    PgTarget::from_settings(&settings).expect("target")
}

/// Node `node`'s store on the database at `url`, its output under `dir`.
pub fn connect(url: &str, node: &str, dir: &Path) -> PgStore {
    let node = NodeName::parse(node).expect("node name");
    PgStore::connect(&target(url), &node, dir).expect("connect")
}

/// Two nodes, "a" and "b", on one fresh database, each with its own data dir.
struct Cluster {
    url: String,
    dirs: [tempfile::TempDir; 2],
    a: PgStore,
    b: PgStore,
}

fn cluster() -> Option<Cluster> {
    let url = crate::postgres::throwaway::server()?.database();
    let dirs = [(); 2].map(|()| tempfile::tempdir().expect("temp dir"));
    let a = connect(&url, "a", dirs[0].path());
    let b = connect(&url, "b", dirs[1].path());
    Some(Cluster { url, dirs, a, b })
}

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + seconds, 0)
        .single()
        .expect("valid instant")
}

fn name(text: &str) -> TaskName {
    TaskName::normalise(text).expect("valid name")
}

fn fire(task: &TaskName, second: i64, claim: Claim) -> NewRun<'_> {
    NewRun {
        task,
        trigger: &Trigger::Schedule,
        scheduled_at: at(second),
        started_at: at(second),
        definition: "name: x\n",
        pays_owed: false,
        claim,
    }
}

#[test]
fn a_fire_both_nodes_record_runs_on_the_first_only() {
    let Some(cluster) = cluster() else { return };
    let task = name("t");
    let fires = [(task.clone(), at(0))];
    let first = cluster
        .a
        .record_starts(&fires, &[], &[fire(&task, 0, Claim::Cluster)])
        .expect("a records");
    let second = cluster
        .b
        .record_starts(&fires, &[], &[fire(&task, 0, Claim::Cluster)])
        .expect("b records");
    let id = first[0].expect("a claimed the fire");
    assert_eq!(second, [None], "b must not run a fire a claimed");
    assert_eq!(cluster.b.count_runs(&task).expect("count"), 1);
    let seen = cluster
        .b
        .get_run(id)
        .expect("read")
        .expect("b sees a's run");
    assert_eq!(seen.node, "a");
    assert_eq!(
        cluster.b.last_fires().expect("read").get(&task),
        Some(&at(0)),
        "b has passed the fire all the same"
    );
    let manual = Trigger::Manual { by: "ann".into() };
    let now = NewRun {
        trigger: &manual,
        ..fire(&task, 0, Claim::None)
    };
    let asked = cluster.b.record_starts(&[], &[], &[now]).expect("run now");
    assert!(asked[0].is_some(), "a run asked for is never refused");
}

#[test]
fn a_node_reads_which_fires_another_node_claimed_for_the_cluster() {
    let Some(cluster) = cluster() else { return };
    let (task, chore) = (name("sync"), name("chore"));
    cluster
        .a
        .record_starts(
            &[],
            &[],
            &[
                fire(&task, 0, Claim::Cluster),
                fire(&chore, 0, Claim::PerNode),
            ],
        )
        .expect("a records");
    let asked = [
        (task.clone(), at(0)),
        (task.clone(), at(1)),
        (chore.clone(), at(0)),
        (name("other"), at(0)),
    ];
    assert_eq!(
        cluster.b.fires_claimed(&asked).expect("read"),
        [true, false, false, false],
        "only the cluster's one run of a fire counts; a node's own chore does not"
    );
    assert!(cluster.b.fires_claimed(&[]).expect("none").is_empty());
}

#[test]
fn per_node_claims_give_each_node_one_run_of_a_fire() {
    let Some(cluster) = cluster() else { return };
    let task = name("chore");
    let ids: Vec<Option<RunId>> = [&cluster.a, &cluster.b, &cluster.a]
        .iter()
        .flat_map(|node| {
            node.record_starts(&[], &[], &[fire(&task, 0, Claim::PerNode)])
                .expect("record")
        })
        .collect();
    assert!(ids[0].is_some() && ids[1].is_some(), "{ids:?}");
    assert_eq!(ids[2], None, "a node runs its own fire once");
    let nodes: Vec<String> = cluster
        .a
        .list_runs(&task, None, 10)
        .expect("list")
        .into_iter()
        .map(|run| run.node)
        .collect();
    assert_eq!(nodes, ["b", "a"]);
}

/// Two nodes record the same 200 fires at once, in batches of ten in opposite orders: every
/// fire gets exactly one run, and neither node waits on the other for good.
#[test]
fn concurrent_starts_from_two_nodes_run_each_fire_once() {
    let Some(cluster) = cluster() else { return };
    let task = name("busy");
    let record = |store: &PgStore, reversed: bool| -> Vec<(i64, RunId)> {
        let mut claimed = Vec::new();
        for batch in (0..200).collect::<Vec<i64>>().chunks(10) {
            let mut seconds = batch.to_vec();
            if reversed {
                seconds.reverse();
            }
            let runs: Vec<NewRun<'_>> = seconds
                .iter()
                .map(|second| fire(&task, *second, Claim::Cluster))
                .collect();
            let ids = store.record_starts(&[], &[], &runs).expect("record");
            claimed.extend(
                seconds
                    .iter()
                    .zip(ids)
                    .filter_map(|(s, id)| Some((*s, id?))),
            );
        }
        claimed
    };
    let (by_a, by_b) = std::thread::scope(|scope| {
        let a = scope.spawn(|| record(&cluster.a, false));
        let b = scope.spawn(|| record(&cluster.b, true));
        (a.join().expect("a"), b.join().expect("b"))
    });
    let mut seconds: Vec<i64> = by_a.iter().chain(&by_b).map(|(s, _)| *s).collect();
    seconds.sort_unstable();
    assert_eq!(
        seconds,
        (0..200).collect::<Vec<_>>(),
        "each fire exactly once"
    );
    assert_eq!(cluster.a.count_runs(&task).expect("count"), 200);
}

#[test]
fn a_restarted_node_closes_only_its_own_runs() {
    let Some(cluster) = cluster() else { return };
    let task = name("t");
    let on_a = cluster
        .a
        .record_starts(&[], &[], &[fire(&task, 0, Claim::Cluster)])
        .expect("a starts")[0]
        .expect("claimed");
    let on_b = cluster
        .b
        .record_starts(&[], &[], &[fire(&task, 1, Claim::Cluster)])
        .expect("b starts")[0]
        .expect("claimed");
    let orphans = cluster.b.close_interrupted(at(9)).expect("b restarts");
    assert_eq!(orphans.iter().map(|o| o.run).collect::<Vec<_>>(), [on_b]);
    let a_run = cluster.b.get_run(on_a).expect("read").expect("exists");
    assert_eq!(
        a_run.status(),
        RunStatus::Running,
        "a's run is a's to close"
    );
    cluster
        .b
        .finish_run(
            on_a,
            &RunEnd::bare(at(9), RunStatus::Success, String::new()),
        )
        .expect("a write about a's run is ignored");
    assert_eq!(
        cluster
            .a
            .get_run(on_a)
            .expect("read")
            .expect("exists")
            .status(),
        RunStatus::Running
    );
    let closed = cluster.a.get_run(on_b).expect("read").expect("exists");
    assert_eq!(closed.status(), RunStatus::Interrupted);
}

/// A node taken for dead has its runs closed by another; when the run's end arrives late, the
/// interrupted record (who closed it, and why) stands.
#[test]
fn a_late_end_does_not_overwrite_a_run_closed_by_a_takeover() {
    let Some(cluster) = cluster() else { return };
    let task = name("t");
    let run = cluster
        .a
        .record_starts(&[], &[], &[fire(&task, 0, Claim::Cluster)])
        .expect("a starts")[0]
        .expect("claimed");
    let closed: i64 = query_one(
        &cluster.b,
        &format!(
            "WITH closed AS (UPDATE runs SET status = 'interrupted', finished_at_us = 1,
                 op_error = 'closed by b' WHERE id = {} RETURNING 1)
             SELECT COUNT(*) FROM closed",
            run.0
        ),
    );
    assert_eq!(closed, 1);
    cluster
        .a
        .finish_run(run, &RunEnd::bare(at(9), RunStatus::Success, String::new()))
        .expect("a's late end");
    let read = cluster.a.get_run(run).expect("read").expect("exists");
    assert_eq!(read.status(), RunStatus::Interrupted);
    assert_eq!(read.op_error(), "closed by b");
}

#[test]
fn a_suspension_set_through_one_node_holds_for_the_other() {
    let Some(cluster) = cluster() else { return };
    cluster.a.set_suspended(&name("t"), true).expect("suspend");
    assert_eq!(
        cluster.b.suspension_states().expect("read").get(&name("t")),
        Some(&true)
    );
}

#[test]
fn output_stored_when_a_run_ends_is_read_through_another_node() {
    let Some(cluster) = cluster() else { return };
    let task = name("t");
    let run = cluster
        .a
        .record_starts(&[], &[], &[fire(&task, 0, Claim::Cluster)])
        .expect("start")[0]
        .expect("claimed");
    assert_eq!(
        cluster.b.stored_output(run, Stream::Stdout).expect("read"),
        None,
        "a running run has nothing stored"
    );
    let stdout = stream_path(cluster.dirs[0].path(), &task, run, Stream::Stdout);
    std::fs::create_dir_all(stdout.parent().expect("run dir")).expect("run dir");
    std::fs::write(&stdout, b"hello from a\n").expect("stdout");
    let mut end = RunEnd::bare(at(1), RunStatus::Success, String::new());
    end.stdout_bytes = 13;
    cluster.a.finish_run(run, &end).expect("finish");
    let read = |stream| cluster.b.stored_output(run, stream).expect("read");
    assert_eq!(read(Stream::Stdout), Some(b"hello from a\n".to_vec()));
    assert_eq!(
        read(Stream::Stderr),
        Some(Vec::new()),
        "it printed nothing there"
    );
    cluster.a.delete_runs(&[(task, run)]).expect("delete");
    assert_eq!(read(Stream::Stdout), None, "the copy goes with its run");
}

#[test]
fn a_lost_fire_another_node_recorded_is_skipped() {
    let Some(cluster) = cluster() else { return };
    let task = name("t");
    cluster
        .a
        .record_starts(&[], &[], &[fire(&task, 0, Claim::Cluster)])
        .expect("a records");
    let lost = |second| LostRun {
        task: task.clone(),
        trigger: Trigger::Schedule,
        due: at(second),
        at: at(second),
        definition: String::new(),
        reason: "not started: disk full".into(),
    };
    let ids = cluster
        .b
        .record_lost(&[], &[], &[lost(0), lost(1)])
        .expect("b records its lost fires");
    assert_eq!(ids[0], None, "a ran that fire");
    assert!(ids[1].is_some());
    let again = cluster
        .a
        .record_starts(&[], &[], &[fire(&task, 1, Claim::Cluster)]);
    assert_eq!(
        again.expect("a records"),
        [None],
        "b's lost fire holds its claim"
    );
}

#[test]
fn nodes_starting_together_migrate_once() {
    let Some(server) = crate::postgres::throwaway::server() else {
        return;
    };
    let url = server.database();
    let dir = tempfile::tempdir().expect("temp dir");
    std::thread::scope(|scope| {
        let nodes: Vec<_> = ["a", "b", "c"]
            .into_iter()
            .map(|node| scope.spawn(|| connect(&url, node, dir.path())))
            .collect();
        for node in nodes {
            node.join().expect("a node starts");
        }
    });
    let store = connect(&url, "a", dir.path());
    let versions: i64 = query_one(&store, "SELECT COUNT(*) FROM schema_version");
    assert_eq!(versions, SCHEMA_VERSION as i64);
}

#[test]
fn a_database_of_a_newer_speedrackd_is_refused() {
    let Some(cluster) = cluster() else { return };
    let newer = i32::try_from(SCHEMA_VERSION + 1).expect("small");
    let _: i64 = query_one(
        &cluster.a,
        &format!(
            "WITH added AS (INSERT INTO schema_version (version) VALUES ({newer}) RETURNING 1) SELECT COUNT(*) FROM added"
        ),
    );
    let node = NodeName::parse("c").expect("name");
    let error = PgStore::connect(&target(&cluster.url), &node, cluster.dirs[0].path())
        .expect_err("refused");
    assert!(matches!(error, HistoryError::PgTooNew { .. }), "{error}");
    assert!(
        error.to_string().contains("newer than this speedrackd"),
        "{error}"
    );
}

#[test]
fn an_unreachable_server_is_named_without_its_password() {
    let dir = tempfile::tempdir().expect("temp dir");
    let password = dir.path().join("password");
    std::fs::write(&password, "s3cret\n").expect("password");
    let owner_only = std::os::unix::fs::PermissionsExt::from_mode(0o600);
    std::fs::set_permissions(&password, owner_only).expect("chmod");
    let url = format!("postgres:///nowhere?user=x&host={}", dir.path().display());
    let settings = crate::config::parse_settings(&format!(
        "store: \"{url}\"\nstore_password_file: {}\n",
        password.display()
    ))
    .expect("settings");
    let target = PgTarget::from_settings(&settings).expect("target");
    let node = NodeName::parse("a").expect("name");
    let error = PgStore::connect(&target, &node, dir.path()).expect_err("no server there");
    let text = error.to_string();
    assert!(matches!(error, HistoryError::PgConnect { .. }), "{text}");
    assert!(text.contains(&url) && !text.contains("s3cret"), "{text}");
}

/// The runtime loop's tests call the store from a current-thread runtime whose clock is
/// paused: the store's own runtime answers them all the same.
#[tokio::test(start_paused = true)]
async fn a_paused_current_thread_runtime_can_call_the_store() {
    let Some(cluster) = cluster() else { return };
    let task = name("t");
    let ids = cluster
        .a
        .record_starts(&[], &[], &[fire(&task, 0, Claim::Cluster)])
        .expect("record");
    let run = cluster.a.get_run(ids[0].expect("claimed")).expect("read");
    assert!(run.is_some());
    drop(cluster);
}

/// One value from the store's pool, for what the `Store` interface does not read.
fn query_one(store: &PgStore, sql: &str) -> i64 {
    let sql = sql.to_owned();
    store
        .worker
        .call("test query", move |client| async move {
            Ok(client.query_one(&sql, &[]).await?.try_get(0)?)
        })
        .expect("query")
}

#[test]
fn importing_history_is_refused_with_where_it_works() {
    let Some(cluster) = cluster() else { return };
    let store: &dyn Store = &cluster.a;
    let error = store.imported_sources("backup").expect_err("refused");
    assert!(error.to_string().contains("SQLite data dir"), "{error}");
    assert!(store.import_runs(&[]).is_err() && store.settle_imports().is_err());
}
