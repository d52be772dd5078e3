//! The settings file's text as a client may show it (the config page): the settings in effect
//! are redacted key by key (`settings.rs`), and the raw text must not give back what they hide.
//!
//! Pure, and it refuses rather than guesses. A file that sets no secret setting, not even in a
//! comment, is shown as written. Else a YAML file written the plain way (one setting per line
//! at the same indentation, sections indented below) is redacted line by line: a secret
//! setting runs from its key to the next setting, and within it keys are kept and every value,
//! list item and continuation line is replaced, as is any comment that sets a secret setting.
//! The result is then checked against the file as YAML reads it (anchors, merges, escapes and
//! all): if any value of a secret setting is still in the text, or the file is written some
//! other way (a flow mapping, a complex key, a tag or anchor before a key, line breaks other
//! than `\n`), or is not YAML at all, the whole text is withheld. A 0.6.1 `.py` file is shown
//! only when it names no secret setting: Python can build a value from other names.

use serde_yaml::Value;

const REDACTED: &str = "(redacted)";
/// Values shorter than this are not searched for in the redacted text: they would match
/// ordinary words, and every secret these settings hold (a DSN, a URL with a token, a
/// password hash) is longer.
const SHORTEST_CHECKED: usize = 6;

/// `text` with the settings named in `secret` redacted, or a comment saying why the whole file
/// is not shown; `python` for a 0.6.1 `.py` file.
pub fn redact_settings_text(text: &str, python: bool, secret: &[&str]) -> String {
    let names = secret.join(", ");
    let cannot_redact = || {
        format!(
            "# Not shown: this file sets secret settings ({names}) in a way that cannot be \
             redacted line by line. Their values in effect are listed, redacted, with the \
             settings.\n"
        )
    };
    if python {
        let code = text
            .lines()
            .filter(|line| !line.trim_start().starts_with('#'));
        let names_one = code.flat_map(words).any(|word| is_secret(word, secret));
        return if names_one {
            cannot_redact()
        } else {
            text.to_owned()
        };
    }
    let Some(secrets) = secret_values(text, secret) else {
        return format!(
            "# Not shown: this file is not valid YAML, so its secret settings ({names}) cannot \
             be told apart from the rest. A reload names the line to fix.\n"
        );
    };
    let commented_out = text.lines().any(|line| {
        let content = line.trim_start();
        content.starts_with('#') && sets_a_secret(content, secret)
    });
    let values = match secrets {
        Some(values) => values,
        None if !commented_out => return text.to_owned(),
        None => Vec::new(),
    };
    redact_yaml(text, secret)
        .filter(|redacted| {
            values
                .iter()
                .filter(|value| value.len() >= SHORTEST_CHECKED)
                .all(|value| !redacted.contains(value.as_str()))
        })
        .unwrap_or_else(cannot_redact)
}

/// The line-by-line redaction, if the file is plain enough for it to be sure.
fn redact_yaml(text: &str, secret: &[&str]) -> Option<String> {
    if text.contains(['\r', '\u{feff}', '\u{85}', '\u{2028}', '\u{2029}']) {
        return None;
    }
    let root = root_indent(text);
    let mut out = String::with_capacity(text.len());
    let mut inside = false;
    for line in text.split_inclusive('\n') {
        let (body, end) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        let content = body.trim_start();
        if content.starts_with('#') {
            if inside || sets_a_secret(content, secret) {
                out.push_str(&body[..body.len() - content.len()]);
                out.push_str("# ");
                out.push_str(REDACTED);
            } else {
                out.push_str(body);
            }
        } else if content.is_empty() || is_marker(body) {
            out.push_str(body);
        } else if let Some(rest) = body
            .strip_prefix(root)
            .filter(|rest| !rest.starts_with(' '))
        {
            // At the settings' indentation: a setting's key, or something this cannot read.
            let (name, separator) = top_level_key(rest)?;
            inside = is_secret(name, secret);
            let separator = separator + root.len();
            if inside && !body[separator + 1..].trim().is_empty() {
                out.push_str(&body[..=separator]);
                out.push(' ');
                out.push_str(REDACTED);
            } else {
                out.push_str(body);
            }
        } else if inside {
            out.push_str(&redacted_nested(body));
        } else {
            out.push_str(body);
        }
        out.push_str(end);
    }
    Some(out)
}

/// Every value of the secret settings, as YAML reads the file (aliases and merges resolved):
/// `None` when the text is not YAML, `Some(None)` when it sets no secret setting.
fn secret_values(text: &str, secret: &[&str]) -> Option<Option<Vec<String>>> {
    let mut value = serde_yaml::from_str::<Value>(text).ok()?;
    value.apply_merge().ok()?;
    let Value::Mapping(settings) = value else {
        // Empty, or not settings at all: no secret setting in it.
        return Some(None);
    };
    let mut values = Vec::new();
    let mut any = false;
    for (key, value) in &settings {
        if key.as_str().is_some_and(|key| is_secret(key, secret)) {
            any = true;
            scalars(value, &mut values);
        }
    }
    Some(any.then_some(values))
}

/// Every scalar under `value`, as text.
fn scalars(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(text) => out.push(text.clone()),
        Value::Number(number) => out.push(number.to_string()),
        Value::Sequence(items) => items.iter().for_each(|item| scalars(item, out)),
        Value::Mapping(entries) => entries.values().for_each(|item| scalars(item, out)),
        Value::Tagged(tagged) => scalars(&tagged.value, out),
        Value::Null | Value::Bool(_) => {}
    }
}

fn is_secret(name: &str, secret: &[&str]) -> bool {
    secret.iter().any(|key| key.eq_ignore_ascii_case(name))
}

/// The words of `text`: runs of letters, digits and `_`, as names are written.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| !word.is_empty())
}

/// Whether `comment` reads as setting a secret setting (`sentry_dsn: …`, `web = …`), as a
/// setting commented out does; prose that merely says "web" is kept.
fn sets_a_secret(comment: &str, secret: &[&str]) -> bool {
    let mut rest = comment;
    while let Some(start) = rest.find(|c: char| c.is_ascii_alphanumeric() || c == '_') {
        let word_and_after = &rest[start..];
        let end = word_and_after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(word_and_after.len());
        let after = word_and_after[end..].trim_start();
        if is_secret(&word_and_after[..end], secret) && after.starts_with([':', '=']) {
            return true;
        }
        rest = &word_and_after[end..];
    }
    false
}

/// A document's start or end, or a directive.
fn is_marker(line: &str) -> bool {
    line.starts_with("---") || line.starts_with("...") || line.starts_with('%')
}

/// The indentation of the file's settings: YAML's top mapping may be indented as a whole.
fn root_indent(text: &str) -> &str {
    text.lines()
        .find(|line| {
            let content = line.trim_start();
            !content.is_empty() && !content.starts_with('#') && !is_marker(line)
        })
        .map_or("", |line| &line[..line.len() - line.trim_start().len()])
}

/// The name of the setting `line` starts (plain or simply quoted), with where its `:` is;
/// `None` for anything else at the settings' indentation.
fn top_level_key(line: &str) -> Option<(&str, usize)> {
    let (name, name_end) = match line.chars().next() {
        Some(quote @ ('\'' | '"')) => {
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
    if name.is_empty() {
        return None;
    }
    let rest = &line[name_end..];
    let separator = name_end + rest.len() - rest.trim_start_matches(' ').len();
    let after = line[separator..].strip_prefix(':')?;
    (after.is_empty() || after.starts_with(' ')).then_some((name, separator))
}

/// A line within a secret setting: its indentation and key kept, the rest replaced.
fn redacted_nested(line: &str) -> String {
    let content = line.trim_start();
    let indent = &line[..line.len() - content.len()];
    match content.strip_prefix("- ") {
        Some(item) => format!("{indent}- {}", redacted_value(item)),
        None => format!("{indent}{}", redacted_value(content)),
    }
}

/// A nested `key: value` keeps its plain key; anything else is replaced whole.
fn redacted_value(content: &str) -> String {
    let key_end = content
        .find(": ")
        .or_else(|| content.ends_with(':').then(|| content.len() - 1));
    let key = key_end.map(|end| &content[..end]).filter(|key| {
        key.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    });
    match key {
        Some(key) if !content[key.len() + 1..].trim().is_empty() => format!("{key}: {REDACTED}"),
        Some(key) => format!("{key}:"),
        None => REDACTED.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[&str] = &["sentry_dsn", "notify", "web"];

    fn yaml(text: &str) -> String {
        redact_settings_text(text, false, SECRET)
    }

    fn withheld(text: &str) -> bool {
        text.starts_with("# Not shown:")
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
        assert_eq!(
            yaml(text),
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
    fn a_comment_naming_a_secret_setting_is_redacted_wherever_it_is() {
        let text = "# a plain comment\napp_name: Ops\n# sentry_dsn: https://old@sentry.io/1\nsentry_dsn: https://k3y@sentry.io/2\n# within the secret setting\n";
        assert_eq!(
            yaml(text),
            "# a plain comment\napp_name: Ops\n# (redacted)\nsentry_dsn: (redacted)\n# (redacted)\n"
        );
    }

    #[test]
    fn a_quoted_or_indented_top_mapping_is_redacted_too() {
        assert_eq!(
            yaml("'sentry_dsn': https://k3y@sentry.io/1\n\"app_name\": Ops\n"),
            "'sentry_dsn': (redacted)\n\"app_name\": Ops\n"
        );
        assert_eq!(
            yaml("---\n  web:\n    users: {ann: hash-of-ann}\n  max_keep: 5\n"),
            "---\n  web:\n    users: (redacted)\n  max_keep: 5\n"
        );
    }

    #[test]
    fn a_file_written_another_way_is_withheld_whole() {
        for text in [
            "{app_name: Ops, sentry_dsn: 'https://k3y@sentry.io/42'}\n",
            "--- {sentry_dsn: https://k3y@sentry.io/42}\n",
            "? sentry_dsn\n: https://k3y@sentry.io/42\n",
            "&a sentry_dsn: https://k3y@sentry.io/42\n",
            "!!str sentry_dsn: https://k3y@sentry.io/42\n",
            "\"sentry\\x5fdsn\": https://k3y@sentry.io/42\n",
            "\u{feff}web:\n  users:\n    ann: $argon2id$hash\n",
            "app_name: Ops\rsentry_dsn: https://k3y@sentry.io/42\n",
            "app_name: Ops\u{2028}sentry_dsn: https://k3y@sentry.io/42\n",
            "sentry_dsn: https://k3y@sentry.io/42\n  - not: yaml: at all\n",
        ] {
            let shown = yaml(text);
            assert!(withheld(&shown), "{text:?} gave {shown:?}");
            assert!(
                !shown.contains("k3y") && !shown.contains("argon2"),
                "{shown}"
            );
        }
    }

    #[test]
    fn a_secret_reached_through_an_anchor_is_caught_by_reading_the_file_as_yaml() {
        let text = "app_name: &dsn https://k3y@sentry.io/42\nsentry_dsn: *dsn\n";
        assert!(withheld(&yaml(text)), "{}", yaml(text));
        let merged =
            "base: &hooks\n  webhooks: [https://hooks.example/t0ken]\nnotify:\n  <<: *hooks\n";
        assert!(withheld(&yaml(merged)), "{}", yaml(merged));
    }

    #[test]
    fn a_file_without_secret_settings_is_shown_as_written_whatever_its_form() {
        for text in [
            "{app_name: Ops, max_keep: 5}\n",
            "app_name: Ops\r\nmax_keep: 5\r\n",
            "base: &b Ops\napp_name: *b\n",
            "",
        ] {
            assert_eq!(yaml(text), text);
        }
    }

    #[test]
    fn a_secret_commented_out_is_redacted_though_no_secret_setting_is_in_effect() {
        let text = "app_name: Ops\n# sentry_dsn: https://old@sentry.io/1\n";
        assert_eq!(yaml(text), "app_name: Ops\n# (redacted)\n");
    }

    #[test]
    fn keys_and_comments_that_only_mention_a_secret_ones_name_are_kept() {
        let text = "# the web UI and its notify page\nweb_extra: visible\nnotifying: visible\n";
        assert_eq!(yaml(text), text);
    }

    #[test]
    fn a_python_file_is_shown_only_when_it_names_no_secret_setting() {
        let plain = "# the web UI's name\nAPP_NAME = 'Ops'\nMAX_RUNS = 5\n";
        assert_eq!(redact_settings_text(plain, true, SECRET), plain);
        for text in [
            "APP_NAME = 'Ops'; sentry_dsn = 'https://k3y@sentry.io/1'\n",
            "dsn = 'https://k3y@sentry.io/1'\nSENTRY_DSN = dsn\n",
        ] {
            let shown = redact_settings_text(text, true, SECRET);
            assert!(withheld(&shown) && !shown.contains("k3y"), "{shown}");
        }
    }
}
