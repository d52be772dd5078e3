//! What to do about a YAML error in a tasks or settings file, added to serde_yaml's message
//! where the line shows a usual cause: a tab in the indentation, a crontab text left unquoted
//! (`*` starts an alias in YAML, `@` is reserved), a file that is not a mapping of keys, or a
//! misspelt setting (the key it most likely meant, instead of every key there is).
//! It only words messages; where the error is, and whether there is one, is serde_yaml's.

/// `message` (serde_yaml's, its position stripped) with the hint its line `line` (1-based)
/// of `text` suggests, if any.
pub fn with_hint(message: &str, text: &str, line: usize) -> String {
    if message.contains("expected struct RawFile") {
        return "a tasks file is a mapping with a `tasks:` list (`tasks:`, then `  - name: \
                backup` and its keys), not a list or a text"
            .to_owned();
    }
    if let Some(meant) = misspelt_key(message) {
        return meant;
    }
    let written = text.lines().nth(line.saturating_sub(1)).unwrap_or_default();
    let indent = &written[..written.len() - written.trim_start().len()];
    if indent.contains('\t') {
        return format!("{message} (line {line} is indented with a tab: YAML indents with spaces)");
    }
    let value = written
        .split_once(": ")
        .map_or("", |(_, value)| value)
        .trim_start();
    if value.starts_with(['*', '@']) {
        return format!(
            "{message} (a value starting with {} must be quoted in YAML: '{}')",
            &value[..1],
            value.trim_end()
        );
    }
    message.to_owned()
}

/// serde's "unknown field `max_kep`, expected one of `socket`, …" as "unknown field `max_kep`:
/// did you mean `max_keep`?", when one known key is that close (two edits at most).
fn misspelt_key(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (key, known) = rest.split_once("`, expected one of ")?;
    let lower = key.to_ascii_lowercase();
    let (distance, meant) = known
        .split(", ")
        .map(|candidate| candidate.trim_matches('`'))
        .map(|candidate| (strsim::levenshtein(&lower, candidate), candidate))
        .min()?;
    if distance > 2 {
        return None;
    }
    // A 0.6.1 `.py` file writes its keys in capitals.
    let meant = match key.bytes().any(|byte| byte.is_ascii_lowercase()) {
        true => meant.to_owned(),
        false => meant.to_ascii_uppercase(),
    };
    Some(format!("unknown field `{key}`: did you mean `{meant}`?"))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use chrono_tz::Tz;

    use crate::config::{ConfigError, parse_tasks};

    /// The message the daemon prints for a tasks file `text` that YAML refuses.
    fn refusal(text: &str) -> String {
        let error = parse_tasks(text, Path::new("t.yaml"), Tz::UTC).expect_err(text);
        ConfigError::invalid(Path::new("t.yaml"), text, &error).to_string()
    }

    #[test]
    fn an_unquoted_crontab_text_is_told_to_be_quoted() {
        let text = "tasks:\n  - name: a\n    command: 'true'\n    cron: */5 * * * *\n";
        assert!(
            refusal(text)
                .ends_with("(a value starting with * must be quoted in YAML: '*/5 * * * *')"),
            "{}",
            refusal(text)
        );
        let text = "tasks:\n  - name: a\n    command: 'true'\n    cron: @daily\n";
        assert!(
            refusal(text).ends_with("(a value starting with @ must be quoted in YAML: '@daily')"),
            "{}",
            refusal(text)
        );
    }

    #[test]
    fn a_tab_in_the_indentation_is_named() {
        let text = "tasks:\n  - name: a\n\tcommand: 'true'\n";
        assert!(
            refusal(text).ends_with("(line 3 is indented with a tab: YAML indents with spaces)"),
            "{}",
            refusal(text)
        );
    }

    #[test]
    fn a_file_that_is_a_list_is_told_what_a_tasks_file_is() {
        let text = "- name: a\n  command: 'true'\n";
        assert!(
            refusal(text).starts_with("t.yaml:1: a tasks file is a mapping with a `tasks:` list"),
            "{}",
            refusal(text)
        );
    }

    #[test]
    fn a_misspelt_setting_is_told_the_key_it_meant() {
        let error = crate::config::parse_settings("max_kep: 10\n").expect_err("a typo");
        let message =
            ConfigError::invalid(Path::new("s.yaml"), "max_kep: 10\n", &error).to_string();
        assert_eq!(
            message,
            "s.yaml:1: unknown field `max_kep`: did you mean `max_keep`?"
        );
        let far = "kept_runs: 10\n";
        let error = crate::config::parse_settings(far).expect_err("not a key");
        let message = ConfigError::invalid(Path::new("s.yaml"), far, &error).to_string();
        assert!(message.contains("expected one of `socket`"), "{message}");
    }

    #[test]
    fn other_errors_keep_their_message() {
        let text = "tasks:\n  - name: a\n    command: 'true\n";
        let message = refusal(text);
        assert!(!message.contains('('), "{message}");
    }
}
