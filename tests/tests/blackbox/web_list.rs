//! The tasks list as a triage page over real HTTP: counts that filter it (plain links), column
//! headers that sort it, and a title and favicon that carry the worst state. Waits are on
//! WatchEvents, never sleeps.

use speedrack_tests::Daemon;
use speedrack_tests::web::Gateway;

const TASKS: &str = "tasks:
  - name: winner
    command: echo won
    interval: 400w
  - name: loser
    command: exit 3
    interval: 400w
  - name: whiner
    command: echo moan >&2
    interval: 400w
  - name: napper
    command: echo zzz
    interval: 400w
  - name: broken
    interval: 1m
";

fn names(page: &speedrack_tests::web::Page) -> Vec<String> {
    page.attrs("tbody tr[data-task]", "data-task")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_filter_the_list_headers_sort_it_and_the_title_says_what_is_worst() {
    let daemon = Daemon::start(TASKS);
    for task in ["winner", "loser", "whiner"] {
        daemon.run_now_and_wait(&mut daemon.watch().await, task).await;
    }
    daemon.ctl().ok(&["suspend", "napper"]);
    let gateway = Gateway::start(&daemon.socket()).await;
    let client = gateway.client();

    let list = client.get("/").await;
    assert_eq!(list.status, 200);
    assert_eq!(list.text("title"), "2 failing · Speedrack");
    let count = |filter: &str| list.attrs(&format!("a[data-filter='{filter}']"), "data-count");
    assert_eq!(count("all"), ["5"]);
    assert_eq!(count("failing"), ["2"]);
    assert_eq!(count("conf-errors"), ["1"]);
    assert_eq!(count("suspended"), ["1"]);
    assert_eq!(count("running"), ["0"]);
    assert_eq!(count("late"), ["0"]);

    let failing = list.attrs("a[data-filter='failing']", "href");
    assert_eq!(failing, ["/?show=failing"]);
    let filtered = client.get(&failing[0]).await;
    assert_eq!(names(&filtered), ["loser", "whiner"]);
    assert_eq!(
        filtered.attrs("a[data-filter='failing']", "aria-current"),
        ["true"]
    );
    let suspended = client.get("/?show=suspended").await;
    assert_eq!(names(&suspended), ["napper"]);

    let by_status = list.attrs("th a[data-sort='status']", "href");
    assert_eq!(by_status, ["/?sort=status"]);
    let sorted = client.get(&by_status[0]).await;
    assert_eq!(
        names(&sorted),
        ["loser", "whiner", "broken", "napper", "winner"]
    );
    let by_name = client.get("/?show=failing&sort=name").await;
    assert_eq!(names(&by_name), ["loser", "whiner"]);
    assert_eq!(
        by_name.attrs("th a[data-sort='last']", "href"),
        ["/?show=failing&sort=last"],
        "sorting keeps the filter"
    );
    let nonsense = client.get("/?show=%ff&sort=sideways&show=x").await;
    assert_eq!(nonsense.status, 200, "a query it cannot read shows the list");
    assert_eq!(names(&nonsense).len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_favicon_is_a_served_svg_of_the_worst_state() {
    let daemon = Daemon::start(TASKS);
    let gateway = Gateway::start(&daemon.socket()).await;
    let client = gateway.client();
    let calm = client.get("/").await;
    // Only a conf error so far: nothing has failed.
    assert_eq!(calm.text("title"), "1 conf error · Speedrack");
    assert_eq!(
        calm.attrs("head link[rel='icon']", "href"),
        ["/favicon/conf-errors.svg"]
    );

    daemon.run_now_and_wait(&mut daemon.watch().await, "loser").await;
    let list = client.get("/").await;
    let icon = list.attrs("head link[rel='icon']", "href");
    assert_eq!(icon, ["/favicon/failing.svg"]);
    let svg = client.get(&icon[0]).await;
    assert_eq!(svg.status, 200);
    assert_eq!(svg.header("content-type").as_deref(), Some("image/svg+xml"));
    assert!(svg.body.starts_with("<svg "), "{}", svg.body);
    assert!(svg.body.contains("#dc3545"), "red for failing: {}", svg.body);

    let config = client.get("/config").await;
    assert_eq!(
        config.attrs("head link[rel='icon']", "href"),
        ["/favicon/plain.svg"],
        "pages that do not look at every task have the plain icon"
    );
    assert_eq!(client.get("/favicon.ico").await.status, 200);
    assert_eq!(client.get("/favicon/nope.svg").await.status, 404);
}
