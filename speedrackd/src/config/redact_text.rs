//! The settings file's text with the values of its secret settings redacted, for clients that
//! show the file as written (the config page): the settings in effect are redacted key by key
//! (`settings.rs`), and the raw text must not give back what they hide.
//!
//! Pure and line by line, never failing: a file that is not valid YAML (or Python) is still
//! redacted as well as its lines allow. A secret setting runs from its key at the start of a
//! line to the next setting at the start of a line; within it, keys are kept and every value,
//! list item, continuation line and comment is replaced.

const REDACTED: &str = "(redacted)";

/// `text` with every line of the settings named in `secret` redacted; `python` for a 0.6.1
/// `.py` file (`NAME = value`), else YAML (`name: value`).
pub fn redact_settings_text(text: &str, python: bool, secret: &[&str]) -> String {
    let root = root_indent(text);
    let mut out = String::with_capacity(text.len());
    let mut inside = false;
    for line in text.split_inclusive('\n') {
        let (body, end) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        let setting = body
            .strip_prefix(root)
            .filter(|rest| !rest.starts_with(char::is_whitespace))
            .and_then(|rest| top_level_setting(rest, python))
            .map(|(name, separator)| (name, separator + root.len()));
        if let Some((name, separator)) = setting {
            inside = secret.iter().any(|key| key.eq_ignore_ascii_case(name));
            if inside {
                out.push_str(&body[..separator + 1]);
                if !body[separator + 1..].trim().is_empty() {
                    out.push(' ');
                    out.push_str(REDACTED);
                }
                out.push_str(end);
                continue;
            }
        }
        if inside {
            out.push_str(&redacted_nested(body, python));
        } else {
            out.push_str(body);
        }
        out.push_str(end);
    }
    out
}

/// The indentation of the file's settings: YAML's top mapping may be indented as a whole.
fn root_indent(text: &str) -> &str {
    text.lines()
        .find(|line| {
            let content = line.trim_start();
            !content.is_empty() && !content.starts_with('#')
        })
        .map_or("", |line| &line[..line.len() - line.trim_start().len()])
}

/// The name of the setting `line` starts, with where its `:` (YAML) or `=` (Python) is; `None`
/// for a line inside a setting, a comment or a blank line.
fn top_level_setting(line: &str, python: bool) -> Option<(&str, usize)> {
    let (name, name_end) = match line.chars().next() {
        Some(quote @ ('\'' | '"')) if !python => {
            let close = line[1..].find(quote)? + 1;
            (&line[1..close], close + 1)
        }
        _ => {
            let end = line
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(line.len());
            (&line[..end], end)
        }
    };
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let rest = &line[name_end..];
    let separator = name_end + rest.len() - rest.trim_start().len();
    let wanted = if python { '=' } else { ':' };
    let after = &line[separator..];
    // `name == value` is a comparison, not a setting; `name:value` is not a YAML key.
    let is_setting = after.starts_with(wanted)
        && !(python && after.starts_with("=="))
        && (python || after[1..].is_empty() || after[1..].starts_with(char::is_whitespace));
    is_setting.then_some((name, separator))
}

/// A line within a secret setting: its indentation and key kept, the rest replaced.
fn redacted_nested(line: &str, python: bool) -> String {
    let content = line.trim_start();
    if content.is_empty() {
        return line.to_owned();
    }
    let indent = &line[..line.len() - content.len()];
    if let Some(item) = content.strip_prefix("- ") {
        return format!("{indent}- {}", redacted_nested_value(item, python));
    }
    format!("{indent}{}", redacted_nested_value(content, python))
}

/// A nested `key: value` keeps its key (a YAML mapping's, or a quoted key of a Python dict);
/// anything else is replaced whole.
fn redacted_nested_value(content: &str, python: bool) -> String {
    if content.starts_with('#') {
        return format!("# {REDACTED}");
    }
    let key = if python {
        quoted_key(content)
    } else {
        yaml_key(content)
    };
    match key {
        Some(key) if !content[key.len()..].trim().is_empty() => format!("{key} {REDACTED}"),
        Some(key) => key.to_owned(),
        None => REDACTED.to_owned(),
    }
}

/// `name:` at the start of a YAML line, colon included.
fn yaml_key(content: &str) -> Option<&str> {
    let end = content
        .find(": ")
        .or_else(|| content.ends_with(':').then(|| content.len() - 1))?;
    let key = &content[..end];
    let plain = key
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    plain.then_some(&content[..=end])
}

/// `'name':` or `"name":` at the start of a Python dict's line, colon included.
fn quoted_key(content: &str) -> Option<&str> {
    let quote = content.chars().next().filter(|c| matches!(c, '\'' | '"'))?;
    let close = content[1..].find(quote)? + 1;
    let after = content[close + 1..].trim_start();
    after
        .starts_with(':')
        .then(|| &content[..content.len() - after.len() + 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[&str] = &["sentry_dsn", "notify", "web"];

    fn yaml(text: &str) -> String {
        redact_settings_text(text, false, SECRET)
    }

    #[test]
    fn a_secret_settings_value_is_redacted_and_the_others_are_kept() {
        let text = "app_name: Ops\nsentry_dsn: https://k3y@o1.ingest.sentry.io/42\nmax_keep: 5\n";
        assert_eq!(
            yaml(text),
            "app_name: Ops\nsentry_dsn: (redacted)\nmax_keep: 5\n"
        );
    }

    #[test]
    fn a_secret_section_keeps_its_keys_and_loses_every_value() {
        let text = "\
web:
  auth: basic
  users:
    ann: $argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA
  # old: $argon2id$v=19$oldhash
notify:
  webhooks:
    - https://hooks.example/T0/B0/secret-token
    - url: https://hooks.example/other?token=abc
      body: |
        token abc in a block scalar
app_name: Ops
";
        let redacted = yaml(text);
        for hidden in ["argon2", "secret-token", "token=abc", "token abc", "basic"] {
            assert!(!redacted.contains(hidden), "{hidden} in:\n{redacted}");
        }
        assert_eq!(
            redacted,
            "\
web:
  auth: (redacted)
  users:
    ann: (redacted)
  # (redacted)
notify:
  webhooks:
    - (redacted)
    - url: (redacted)
      body: (redacted)
        (redacted)
app_name: Ops
"
        );
    }

    #[test]
    fn a_flow_mapping_is_redacted_to_the_next_setting_however_it_wraps() {
        let text = "notify: {webhooks: [https://hooks.example/a?token=1,\n  https://hooks.example/b?token=2]}\nshell: /bin/sh";
        assert_eq!(
            yaml(text),
            "notify: (redacted)\n  (redacted)\nshell: /bin/sh"
        );
    }

    #[test]
    fn a_quoted_or_indented_top_mapping_is_redacted_too() {
        assert_eq!(
            yaml("'sentry_dsn': https://k3y@sentry.io/1\n\"app_name\": Ops\n"),
            "'sentry_dsn': (redacted)\n\"app_name\": Ops\n"
        );
        assert_eq!(
            yaml("# settings\n  web:\n    users: {ann: hash}\n  max_keep: 5\n"),
            "# settings\n  web:\n    users: (redacted)\n  max_keep: 5\n"
        );
    }

    #[test]
    fn keys_that_only_begin_like_a_secret_ones_are_kept() {
        let text = "web_extra: visible\nnotifying: visible\nwebhook:visible\n";
        assert_eq!(yaml(text), text);
    }

    #[test]
    fn a_python_settings_file_is_redacted_by_its_assignments() {
        let text = "APP_NAME = 'Ops'\nsentry_dsn = 'https://k3y@sentry.io/1'\nnotify = {\n    'webhooks': ['https://hooks.example/t'],\n}\nMAX_RUNS = 5\nif MAX_RUNS == 5: pass\n";
        assert_eq!(
            redact_settings_text(text, true, SECRET),
            "APP_NAME = 'Ops'\nsentry_dsn = (redacted)\nnotify = (redacted)\n    'webhooks': (redacted)\n(redacted)\nMAX_RUNS = 5\nif MAX_RUNS == 5: pass\n"
        );
    }
}
