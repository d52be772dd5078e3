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
        daemon
            .run_now_and_wait(&mut daemon.watch().await, task)
            .await;
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
    assert_eq!(
        nonsense.status, 200,
        "a query it cannot read shows the list"
    );
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

    daemon
        .run_now_and_wait(&mut daemon.watch().await, "loser")
        .await;
    let list = client.get("/").await;
    let icon = list.attrs("head link[rel='icon']", "href");
    assert_eq!(icon, ["/favicon/failing.svg"]);
    let svg = client.get(&icon[0]).await;
    assert_eq!(svg.status, 200);
    assert_eq!(svg.header("content-type").as_deref(), Some("image/svg+xml"));
    assert!(svg.body.starts_with("<svg "), "{}", svg.body);
    assert!(
        svg.body.contains("#dc3545"),
        "red for failing: {}",
        svg.body
    );

    let config = client.get("/config").await;
    assert_eq!(
        config.attrs("head link[rel='icon']", "href"),
        ["/favicon/plain.svg"],
        "pages that do not look at every task have the plain icon"
    );
    assert_eq!(client.get("/favicon.ico").await.status, 200);
    assert_eq!(client.get("/favicon/nope.svg").await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_config_page_shows_values_in_effect_and_where_each_came_from() {
    // The settings file names a socket and a data dir that the command line overrides.
    let daemon = speedrack_tests::DaemonBuilder::new(
        "tasks:
  - name: secretive
    command: echo $PGPASSWORD
    interval: 400w
    env:
      PGPASSWORD: hunter2
",
    )
    .settings(
        "socket: /nonexistent/from-file.sock\ndata_dir: /nonexistent/from-file\nkill_grace: 7s\n",
    )
    .start();
    let client = speedrack_tests::web::WebClient::with(
        daemon.web_url(),
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("HTTP client"),
    );
    let page = client.get("/config").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let row = |name: &str| page.text(&format!("tr[data-setting='{name}']"));
    let socket = row("socket");
    assert!(
        socket.contains(&daemon.socket().display().to_string())
            && socket.contains("command-line flag"),
        "{socket}"
    );
    assert!(!socket.contains("from-file"), "{socket}");
    let data_dir = row("data_dir");
    assert!(
        data_dir.contains(&daemon.data_dir().display().to_string())
            && data_dir.contains("command-line flag"),
        "{data_dir}"
    );
    assert!(
        row("kill_grace").contains("settings file"),
        "{}",
        row("kill_grace")
    );
    assert!(row("shell").contains("default"), "{}", row("shell"));
    let address = daemon.web_url().trim_start_matches("http://").to_owned();
    let listen = row("listen");
    assert!(
        listen.contains(&address) && listen.contains("command-line flag"),
        "the port bound, not the flag's 0: {listen}"
    );
    let gateway = page.text("tr[data-gateway='listen']");
    assert!(gateway.contains(&address), "{gateway}");
    assert!(
        page.text("tr[data-gateway='socket']")
            .contains("speedrackd's own"),
        "{}",
        page.text("tr[data-gateway='socket']")
    );
    let shown = page.text("[data-tasks-text]");
    assert!(shown.contains("PGPASSWORD: ••••••"), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(
        page.text("[data-reveal-env] [data-tasks-text-revealed]")
            .contains("PGPASSWORD: hunter2"),
        "one click away"
    );
}
