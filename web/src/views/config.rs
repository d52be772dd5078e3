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
use crate::views::time::{exact, instant, moment, relative};

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
                            td data-uptime { (exact(started)) " (" (relative(chrome.now, started)) ")" }
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
    use super::*;

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
}
