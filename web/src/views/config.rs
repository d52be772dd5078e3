//! The config page: the Reload button, the debug facts (versions, protocol, paths, uptime, the
//! gateway's own address and socket with where they came from), conf errors, the settings in
//! effect with where each came from (flag, settings file, default; secrets redacted), and both
//! files raw and parsed, the values under a task's `env:` masked until revealed.

use maud::{Markup, html};
use speedrack_proto::v1 as pb;

use crate::origin::{Fact, GatewayFacts};
use crate::views::forms;
use crate::views::layout::{Chrome, Nav, Page, render};
use crate::views::mask::mask_env;
use crate::views::status::{badge, task_status};
use crate::views::task::conf_error_line;
use crate::views::time::{absolute, instant, moment, relative};

/// Everything the config page shows; either part may be missing when the daemon could not say.
pub struct ConfigPage<'a> {
    pub status: Option<&'a pb::GetStatusResponse>,
    /// GetConfig's answer, or why there is none (e.g. the daemon did not answer in time).
    pub config: Result<&'a pb::GetConfigResponse, String>,
    pub tasks: &'a [pb::Task],
    /// The gateway's own address and socket, when it knows them.
    pub gateway: Option<&'a GatewayFacts>,
}

/// Names that look like secrets are never shown, whatever the daemon sent.
pub fn shown_value(setting: &pb::Setting) -> &str {
    let name = setting.name.to_ascii_lowercase();
    let secret = ["password", "secret", "token", "credential", "key"]
        .iter()
        .any(|word| name.contains(word));
    if secret && !setting.value.is_empty() {
        "(redacted)"
    } else {
        &setting.value
    }
}

pub fn page(chrome: &Chrome, data: &ConfigPage<'_>) -> Markup {
    render(
        chrome,
        Page {
            nav: Nav::Config,
            title: "Config",
            events: None,
            live: html! {},
            rest: html! {
                div.d-flex.flex-wrap.align-items-center.gap-3.mb-3 {
                    h1.h4.mb-0 { "Configuration" }
                    form method="post" action=(chrome.urls.reload()) {
                        (forms::hidden(chrome, None))
                        button.btn.btn-primary.btn-sm type="submit" data-action="reload" { "Reload" }
                    }
                    span.small.text-body-secondary {
                        "Re-reads both files. A broken file changes nothing; running tasks are never touched."
                    }
                }
                (facts(chrome, data.status, data.gateway))
                (conf_errors(data))
                @match &data.config {
                    Ok(config) => (files(config, data.tasks)),
                    Err(why) => div.alert.alert-warning data-no-config {
                        "The daemon did not send its configuration: " (why)
                    },
                }
            },
        },
    )
}

fn facts(
    chrome: &Chrome,
    status: Option<&pb::GetStatusResponse>,
    gateway: Option<&GatewayFacts>,
) -> Markup {
    let version = env!("CARGO_PKG_VERSION");
    let ours = speedrack_proto::PROTOCOL_VERSION;
    html! {
        h2.h5 { "Debug facts" }
        table.table.table-sm.w-auto data-facts {
            tbody {
                tr { th { "Web gateway version" } td { (version) } }
                @if let Some(gateway) = gateway {
                    (gateway_fact("Web gateway listens on", "listen", &gateway.listen))
                    (gateway_fact("Web gateway's socket", "socket", &gateway.socket))
                }
                @if let Some(status) = status {
                    tr { th { "speedrackd version" } td data-version { (status.version) } }
                    tr {
                        th { "Protocol" }
                        td {
                            "daemon " (status.protocol_version) ", gateway " (ours)
                            @if status.protocol_version != ours {
                                " " span.badge.text-bg-warning {
                                    "mismatch: upgrade the older of speedrackd and the gateway"
                                }
                            }
                        }
                    }
                    tr { th { "PID" } td { (status.pid) } }
                    @if let Some(started) = instant(status.started_at.as_ref()) {
                        tr {
                            th { "Started" }
                            td data-uptime { (absolute(started)) " (" (relative(chrome.now, started)) ")" }
                        }
                    }
                    tr { th { "Socket" } td { code { (status.socket_path) } } }
                    tr { th { "Data directory" } td { code { (status.data_dir) } } }
                    (crate::views::status::disk_facts(status))
                    tr { th { "Settings file" } td { code { (or_none(&status.settings_path)) } } }
                    tr { th { "Tasks file" } td { code { (status.tasks_path) } } }
                    tr { th { "Demo mode" } td { (if status.demo_mode { "yes" } else { "no" }) } }
                    tr {
                        th { "Tasks" }
                        td {
                            (status.task_count) " (" (status.running_count) " running, "
                            (status.suspended_count) " suspended, "
                            (status.conf_error_count) " with conf errors)"
                        }
                    }
                    tr { th { "Last reload" } td { (moment(chrome.now, status.last_reload_at.as_ref(), "never")) } }
                }
            }
        }
    }
}

fn gateway_fact(title: &str, slug: &str, fact: &Fact) -> Markup {
    html! {
        tr data-gateway=(slug) {
            th { (title) }
            td {
                code { (fact.value) }
                @if let Some(source) = fact.source {
                    " " span.badge.text-bg-light.border data-source { (source.words()) }
                }
            }
        }
    }
}

/// How the page says where a setting came from.
fn source_words(source: pb::SettingSource) -> &'static str {
    match source {
        pb::SettingSource::Flag => "command-line flag",
        pb::SettingSource::SettingsFile => "settings file",
        pb::SettingSource::Default => "default",
        pb::SettingSource::Unspecified => "",
    }
}

fn or_none(text: &str) -> &str {
    if text.is_empty() { "(none)" } else { text }
}

fn conf_errors(data: &ConfigPage<'_>) -> Markup {
    let errors: Vec<&pb::ConfError> = match &data.config {
        Ok(config) => config.conf_errors.iter().collect(),
        Err(_) => data
            .tasks
            .iter()
            .flat_map(|task| &task.conf_errors)
            .collect(),
    };
    html! {
        h2.h5 { "Conf errors" }
        @if errors.is_empty() {
            p.text-body-secondary { "None." }
        } @else {
            ul data-conf-errors {
                @for error in errors { li { code { (conf_error_line(error)) } } }
            }
        }
    }
}

fn files(config: &pb::GetConfigResponse, tasks: &[pb::Task]) -> Markup {
    html! {
        h2.h5 { "Settings in effect" }
        table.table.table-sm.w-auto data-settings {
            thead { tr { th { "Setting" } th { "Value in effect" } th { "From" } } }
            tbody {
                @for setting in &config.settings {
                    tr data-setting=(setting.name) {
                        td { code { (setting.name) } }
                        td { code { (shown_value(setting)) } }
                        td.small.text-body-secondary data-source {
                            @match setting.source() {
                                pb::SettingSource::Unspecified => {
                                    // A daemon older than the gateway says only this much.
                                    @if setting.is_default { "default" }
                                }
                                source => (source_words(source)),
                            }
                        }
                    }
                }
            }
        }
        h2.h5 { "Tasks as parsed" }
        table.table.table-sm.w-auto data-parsed-tasks {
            thead { tr { th { "Task" } th { "Schedule" } th { "Zone" } th { "Status" } } }
            tbody {
                @for task in tasks {
                    tr {
                        td { (task.name) } td { code { (task.schedule) } } td { (task.timezone) }
                        td { (badge(task_status(task.status()))) }
                    }
                }
            }
        }
        h2.h5 { "Settings file " small.text-body-secondary { code { (or_none(&config.settings_path)) } } }
        @if config.settings_text.is_empty() {
            p.text-body-secondary { "No settings file: every setting has its default." }
        } @else {
            pre.sr-output.border.p-2 data-settings-text { (config.settings_text) }
        }
        h2.h5 { "Tasks file " small.text-body-secondary { code { (config.tasks_path) } } }
        @match mask_env(&config.tasks_text) {
            Some(masked) => {
                pre.sr-output.border.p-2 data-tasks-text { (masked) }
                // Everyone who can open this page is signed in (or on loopback without
                // authentication): the reveal is theirs, one click, no script.
                details.mb-3 data-reveal-env {
                    summary { "Reveal the values under env:" }
                    pre.sr-output.border.p-2 data-tasks-text-revealed { (config.tasks_text) }
                }
            }
            None => pre.sr-output.border.p-2 data-tasks-text { (config.tasks_text) },
        }
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;
    use crate::origin::Source;
    use crate::views::layout::tests::{ago, chrome};
    use crate::views::snapshot::check_page;

    /// The page with the gateway's version and protocol as placeholders, so that its snapshot
    /// holds across releases.
    fn pinned(markup: Markup) -> Markup {
        let ours = speedrack_proto::PROTOCOL_VERSION;
        maud::PreEscaped(
            markup
                .into_string()
                .replace(
                    &format!("<td>{}</td>", env!("CARGO_PKG_VERSION")),
                    "<td>GATEWAY_VERSION</td>",
                )
                .replace(
                    &format!("daemon {ours}, gateway {ours}"),
                    "daemon PROTOCOL_VERSION, gateway PROTOCOL_VERSION",
                ),
        )
    }

    #[test]
    fn secrets_stay_redacted() {
        let setting = |name: &str, value: &str| pb::Setting {
            name: name.to_owned(),
            value: value.to_owned(),
            is_default: false,
            source: pb::SettingSource::SettingsFile.into(),
        };
        assert_eq!(
            shown_value(&setting("smtp_password", "hunter2")),
            "(redacted)"
        );
        assert_eq!(shown_value(&setting("webhook_token", "abc")), "(redacted)");
        assert_eq!(shown_value(&setting("app_name", "Cron")), "Cron");
    }

    #[test]
    fn files_are_escaped() {
        let config = pb::GetConfigResponse {
            tasks_text: "tasks:\n  - name: <script>\n".to_owned(),
            ..pb::GetConfigResponse::default()
        };
        let chrome = crate::views::layout::tests::chrome("");
        let html = page(
            &chrome,
            &ConfigPage {
                status: None,
                config: Ok(&config),
                tasks: &[],
                gateway: None,
            },
        )
        .into_string();
        assert!(html.contains("name: &lt;script&gt;"), "{html}");
    }

    #[test]
    fn env_values_are_masked_with_a_reveal_and_sources_are_named() {
        let config = pb::GetConfigResponse {
            tasks_text: "tasks:\n  - name: a\n    env:\n      PGPASSWORD: hunter2\n".to_owned(),
            settings: vec![pb::Setting {
                name: "socket".to_owned(),
                value: "/run/x.sock".to_owned(),
                is_default: false,
                source: pb::SettingSource::Flag.into(),
            }],
            ..pb::GetConfigResponse::default()
        };
        let facts = GatewayFacts {
            listen: Fact {
                value: "127.0.0.1:8118".to_owned(),
                source: Some(crate::origin::Source::Default),
            },
            socket: Fact {
                value: "/run/x.sock".to_owned(),
                source: Some(crate::origin::Source::Daemon),
            },
        };
        let chrome = crate::views::layout::tests::chrome("");
        let data = ConfigPage {
            status: None,
            config: Ok(&config),
            tasks: &[],
            gateway: Some(&facts),
        };
        let html = page(&chrome, &data).into_string();
        let masked = html
            .split("data-tasks-text>")
            .nth(1)
            .and_then(|rest| rest.split("</pre>").next())
            .expect("the tasks file is shown");
        assert!(masked.contains("PGPASSWORD: ••••••"), "{masked}");
        assert!(!masked.contains("hunter2"), "{masked}");
        assert!(
            html.contains("<details class=\"mb-3\" data-reveal-env><summary>"),
            "{html}"
        );
        assert!(html.contains("data-source>command-line flag<"), "{html}");
        assert!(html.contains("<tr data-gateway=\"listen\">"), "{html}");
        assert!(
            html.contains("speedrackd&#39;s own") || html.contains("speedrackd's own"),
            "{html}"
        );
    }

    #[test]
    fn the_page_shows_the_facts_the_settings_by_source_and_both_files_with_env_masked() {
        let status = pb::GetStatusResponse {
            version: "0.7.0".to_owned(),
            protocol_version: speedrack_proto::PROTOCOL_VERSION,
            pid: 4_242,
            started_at: Some(ago(90_000)),
            settings_path: "/etc/speedrack/settings.yaml".to_owned(),
            tasks_path: "/etc/speedrack/tasks.yaml".to_owned(),
            socket_path: "/run/speedrack/speedrackd.sock".to_owned(),
            data_dir: "/var/lib/speedrack".to_owned(),
            data_dir_free_bytes: 12 << 30,
            data_dir_total_bytes: 40 << 30,
            task_count: 2,
            running_count: 1,
            conf_error_count: 1,
            last_reload_at: Some(ago(3_600)),
            ..pb::GetStatusResponse::default()
        };
        let setting = |name: &str, value: &str, source: pb::SettingSource| pb::Setting {
            name: name.to_owned(),
            value: value.to_owned(),
            is_default: source == pb::SettingSource::Default,
            source: source.into(),
        };
        let config = pb::GetConfigResponse {
            settings_path: "/etc/speedrack/settings.yaml".to_owned(),
            settings_text: "app_name: Ops & cron\nsentry_dsn: (redacted)\n"
                .to_owned(),
            tasks_path: "/etc/speedrack/tasks.yaml".to_owned(),
            tasks_text: "tasks:\n  - name: backup\n    command: pg_dump app > /backup/app.sql\n    env:\n      PGPASSWORD: hunter2\n".to_owned(),
            settings: vec![
                setting("socket", "/run/speedrack/speedrackd.sock", pb::SettingSource::Flag),
                setting("app_name", "Ops & cron", pb::SettingSource::SettingsFile),
                // As the daemon sends it.
                setting("sentry_dsn", "(redacted)", pb::SettingSource::SettingsFile),
                setting("execution_display", "20", pb::SettingSource::Default),
            ],
            conf_errors: vec![pb::ConfError {
                file: "tasks.yaml".to_owned(),
                line: 14,
                message: "schedule: not a cron expression".to_owned(),
                ..pb::ConfError::default()
            }],
            ..pb::GetConfigResponse::default()
        };
        let tasks = [
            pb::Task {
                name: "backup".to_owned(),
                schedule: "0 3 * * *".to_owned(),
                timezone: "Europe/Paris".to_owned(),
                status: pb::TaskStatus::Running.into(),
                ..pb::Task::default()
            },
            pb::Task {
                name: "Broken Label".to_owned(),
                status: pb::TaskStatus::ConfError.into(),
                ..pb::Task::default()
            },
        ];
        let gateway = GatewayFacts {
            listen: Fact {
                value: "127.0.0.1:8118".to_owned(),
                source: Some(Source::Flag),
            },
            socket: Fact {
                value: "/run/speedrack/speedrackd.sock".to_owned(),
                source: Some(Source::Daemon),
            },
        };
        let data = ConfigPage {
            status: Some(&status),
            config: Ok(&config),
            tasks: &tasks,
            gateway: Some(&gateway),
        };
        check_page(
            &pinned(page(&chrome(""), &data)),
            expect![[r#"
                <title>Config · Speedrack</title>
                <main class="container-fluid py-3">
                <div id="live">
                </div>
                <div class="d-flex flex-wrap align-items-center gap-3 mb-3">
                <h1 class="h4 mb-0">Configuration</h1>
                <form method="post" action="/reload">
                <input type="hidden" name="csrf" value="t0k3n">
                <button class="btn btn-primary btn-sm" type="submit" data-action="reload">Reload</button>
                </form>
                <span class="small text-body-secondary">Re-reads both files. A broken file changes nothing; running tasks are never touched.</span>
                </div>
                <h2 class="h5">Debug facts</h2>
                <table class="table table-sm w-auto" data-facts>
                <tbody>
                <tr>
                <th>Web gateway version</th>
                <td>GATEWAY_VERSION</td>
                </tr>
                <tr data-gateway="listen">
                <th>Web gateway listens on</th>
                <td>
                <code>127.0.0.1:8118</code> <span class="badge text-bg-light border" data-source>command-line flag</span>
                </td>
                </tr>
                <tr data-gateway="socket">
                <th>Web gateway's socket</th>
                <td>
                <code>/run/speedrack/speedrackd.sock</code> <span class="badge text-bg-light border" data-source>speedrackd's own</span>
                </td>
                </tr>
                <tr>
                <th>speedrackd version</th>
                <td data-version>0.7.0</td>
                </tr>
                <tr>
                <th>Protocol</th>
                <td>daemon PROTOCOL_VERSION, gateway PROTOCOL_VERSION</td>
                </tr>
                <tr>
                <th>PID</th>
                <td>4242</td>
                </tr>
                <tr>
                <th>Started</th>
                <td data-uptime>
                <time datetime="1970-01-11T12:46:40Z" data-absolute>1970-01-11 12:46:40 UTC</time> (1 d ago)</td>
                </tr>
                <tr>
                <th>Socket</th>
                <td>
                <code>/run/speedrack/speedrackd.sock</code>
                </td>
                </tr>
                <tr>
                <th>Data directory</th>
                <td>
                <code>/var/lib/speedrack</code>
                </td>
                </tr>
                <tr>
                <th>Data directory free space</th>
                <td data-disk>12.0 GiB of 40.0 GiB</td>
                </tr>
                <tr>
                <th>Settings file</th>
                <td>
                <code>/etc/speedrack/settings.yaml</code>
                </td>
                </tr>
                <tr>
                <th>Tasks file</th>
                <td>
                <code>/etc/speedrack/tasks.yaml</code>
                </td>
                </tr>
                <tr>
                <th>Demo mode</th>
                <td>no</td>
                </tr>
                <tr>
                <th>Tasks</th>
                <td>2 (1 running, 0 suspended, 1 with conf errors)</td>
                </tr>
                <tr>
                <th>Last reload</th>
                <td>
                <time datetime="1970-01-12T12:46:40Z" title="1970-01-12 12:46:40 UTC" data-relative>1 h ago</time>
                </td>
                </tr>
                </tbody>
                </table>
                <h2 class="h5">Conf errors</h2>
                <ul data-conf-errors>
                <li>
                <code>tasks.yaml:14: schedule: not a cron expression</code>
                </li>
                </ul>
                <h2 class="h5">Settings in effect</h2>
                <table class="table table-sm w-auto" data-settings>
                <thead>
                <tr>
                <th>Setting</th>
                <th>Value in effect</th>
                <th>From</th>
                </tr>
                </thead>
                <tbody>
                <tr data-setting="socket">
                <td>
                <code>socket</code>
                </td>
                <td>
                <code>/run/speedrack/speedrackd.sock</code>
                </td>
                <td class="small text-body-secondary" data-source>command-line flag</td>
                </tr>
                <tr data-setting="app_name">
                <td>
                <code>app_name</code>
                </td>
                <td>
                <code>Ops &amp; cron</code>
                </td>
                <td class="small text-body-secondary" data-source>settings file</td>
                </tr>
                <tr data-setting="sentry_dsn">
                <td>
                <code>sentry_dsn</code>
                </td>
                <td>
                <code>(redacted)</code>
                </td>
                <td class="small text-body-secondary" data-source>settings file</td>
                </tr>
                <tr data-setting="execution_display">
                <td>
                <code>execution_display</code>
                </td>
                <td>
                <code>20</code>
                </td>
                <td class="small text-body-secondary" data-source>default</td>
                </tr>
                </tbody>
                </table>
                <h2 class="h5">Tasks as parsed</h2>
                <table class="table table-sm w-auto" data-parsed-tasks>
                <thead>
                <tr>
                <th>Task</th>
                <th>Schedule</th>
                <th>Zone</th>
                <th>Status</th>
                </tr>
                </thead>
                <tbody>
                <tr>
                <td>backup</td>
                <td>
                <code>0 3 * * *</code>
                </td>
                <td>Europe/Paris</td>
                <td>
                <span class="badge sr-status text-bg-info" data-status="running">running</span>
                </td>
                </tr>
                <tr>
                <td>Broken Label</td>
                <td>
                <code>
                </code>
                </td>
                <td>
                </td>
                <td>
                <span class="badge sr-status text-bg-dark" data-status="conf-error">conf error</span>
                </td>
                </tr>
                </tbody>
                </table>
                <h2 class="h5">Settings file <small class="text-body-secondary">
                <code>/etc/speedrack/settings.yaml</code>
                </small>
                </h2>
                <pre class="sr-output border p-2" data-settings-text>app_name: Ops &amp; cron
                sentry_dsn: (redacted)
                </pre>
                <h2 class="h5">Tasks file <small class="text-body-secondary">
                <code>/etc/speedrack/tasks.yaml</code>
                </small>
                </h2>
                <pre class="sr-output border p-2" data-tasks-text>tasks:
                  - name: backup
                    command: pg_dump app &gt; /backup/app.sql
                    env:
                      PGPASSWORD: ••••••
                </pre>
                <details class="mb-3" data-reveal-env>
                <summary>Reveal the values under env:</summary>
                <pre class="sr-output border p-2" data-tasks-text-revealed>tasks:
                  - name: backup
                    command: pg_dump app &gt; /backup/app.sql
                    env:
                      PGPASSWORD: hunter2
                </pre>
                </details>
                </main>
            "#]],
        );
    }

    #[test]
    fn without_the_daemons_configuration_the_page_says_why_and_lists_the_tasks_conf_errors() {
        let tasks = [pb::Task {
            name: "cleanup".to_owned(),
            status: pb::TaskStatus::ConfError.into(),
            conf_errors: vec![pb::ConfError {
                file: "tasks.yaml".to_owned(),
                line: 22,
                task: "cleanup".to_owned(),
                key: "schedule".to_owned(),
                message: "expected 5 fields, found 4".to_owned(),
            }],
            ..pb::Task::default()
        }];
        let data = ConfigPage {
            status: None,
            config: Err("deadline exceeded after 5 s".to_owned()),
            tasks: &tasks,
            gateway: None,
        };
        check_page(
            &pinned(page(&chrome(""), &data)),
            expect![[r#"
            <title>Config · Speedrack</title>
            <main class="container-fluid py-3">
            <div id="live">
            </div>
            <div class="d-flex flex-wrap align-items-center gap-3 mb-3">
            <h1 class="h4 mb-0">Configuration</h1>
            <form method="post" action="/reload">
            <input type="hidden" name="csrf" value="t0k3n">
            <button class="btn btn-primary btn-sm" type="submit" data-action="reload">Reload</button>
            </form>
            <span class="small text-body-secondary">Re-reads both files. A broken file changes nothing; running tasks are never touched.</span>
            </div>
            <h2 class="h5">Debug facts</h2>
            <table class="table table-sm w-auto" data-facts>
            <tbody>
            <tr>
            <th>Web gateway version</th>
            <td>GATEWAY_VERSION</td>
            </tr>
            </tbody>
            </table>
            <h2 class="h5">Conf errors</h2>
            <ul data-conf-errors>
            <li>
            <code>tasks.yaml:22: cleanup: schedule: expected 5 fields, found 4</code>
            </li>
            </ul>
            <div class="alert alert-warning" data-no-config>The daemon did not send its configuration: deadline exceeded after 5 s</div>
            </main>
        "#]],
        );
    }
}
