//! Masking the values under a task's `env:` in tasks-file text, so that a page can show the
//! file without showing the secrets people put in environment variables; the page decides who
//! may reveal them.
//!
//! A line scan, not a YAML parser: the text may be broken (that is when people look at it),
//! and masking must never fail. It masks every line nested under an `env:` key (block
//! mappings, and block scalars within them) and the whole of an inline `env: {...}`.

/// What a masked value reads as.
pub const MASK: &str = "••••••";

/// `text` with env values masked, or `None` when it has none.
pub fn mask_env(text: &str) -> Option<String> {
    let mut out = Vec::new();
    let mut block: Option<usize> = None;
    let mut masked = false;
    for line in text.split('\n') {
        let indent = line.len() - line.trim_start().len();
        let content = line.trim_start();
        let in_block = block.is_some_and(|env| indent > env || content.is_empty());
        if in_block {
            if content.is_empty() || content.starts_with('#') {
                out.push(line.to_owned());
            } else {
                out.push(mask_entry(line, indent));
                masked = true;
            }
            continue;
        }
        block = None;
        let (key_at, key_line) = match content.strip_prefix("- ") {
            Some(rest) => (
                indent + 2 + (rest.len() - rest.trim_start().len()),
                rest.trim_start(),
            ),
            None => (indent, content),
        };
        match key_line.strip_prefix("env:") {
            Some(rest) if rest.trim().is_empty() || rest.trim().starts_with('#') => {
                block = Some(key_at);
                out.push(line.to_owned());
            }
            Some(_) => {
                let keep = line.len() - key_line.len() + "env:".len();
                out.push(format!("{} {MASK}", &line[..keep]));
                masked = true;
            }
            None => out.push(line.to_owned()),
        }
    }
    masked.then(|| out.join("\n"))
}

/// `KEY: value` as `KEY: MASK`; a line without a key (a block scalar's) masked whole.
fn mask_entry(line: &str, indent: usize) -> String {
    match line.find(':') {
        Some(colon) if line[colon + 1..].trim().is_empty() => line.to_owned(),
        Some(colon) => format!("{}: {MASK}", &line[..colon]),
        None => format!("{}{MASK}", &line[..indent]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_under_env_are_masked_and_nothing_else() {
        let text = "tasks:
  - name: db
    command: pg_dump
    env:
      PGPASSWORD: hunter2
      # a comment stays
      CERT: |
        -----BEGIN-----

      TOKEN: 's3cr3t'
    interval: 1d
  - env: {A: b}
    name: x
";
        let masked = mask_env(text).expect("there is an env");
        for secret in ["hunter2", "BEGIN", "s3cr3t", "{A: b}"] {
            assert!(!masked.contains(secret), "{secret} shows in:\n{masked}");
        }
        for kept in [
            "PGPASSWORD: ••••••",
            "TOKEN: ••••••",
            "# a comment stays",
            "command: pg_dump",
            "interval: 1d",
            "  - env: ••••••",
            "name: x",
        ] {
            assert!(masked.contains(kept), "{kept} is missing from:\n{masked}");
        }
        assert_eq!(masked.lines().count(), text.lines().count());
        assert_eq!(mask_env("tasks:\n  - name: a\n    environment: x\n"), None);
    }
}
