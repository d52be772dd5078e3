//! YAML documents as trees, and their rendering as text in block or flow style, with comment
//! lines that make line numbers differ from entry positions. Only as much YAML as the parsers
//! under test need; not a general YAML writer.

/// A YAML node. Collections carry their own layout choice so the same tree is exercised in block
/// and flow style.
#[derive(Debug, Clone)]
pub(super) enum Doc {
    Int(i64),
    Float(f64),
    Bool(bool),
    Null,
    Text(String),
    /// A value already written as inline YAML.
    Raw(&'static str),
    List {
        flow: bool,
        items: Vec<Doc>,
    },
    Map {
        flow: bool,
        entries: Vec<Entry>,
    },
}

/// A mapping entry; `comment` puts a comment line and a blank line before it, so line numbers
/// differ from entry positions.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub(super) key: String,
    pub(super) value: Doc,
    pub(super) comment: bool,
}

impl Doc {
    pub(super) fn map(entries: Vec<Entry>) -> Doc {
        Doc::Map {
            flow: false,
            entries,
        }
    }

    pub(super) fn render(&self) -> String {
        let mut out = String::new();
        match self {
            Doc::Map { flow: false, .. } | Doc::List { flow: false, .. } => {
                self.render_block(0, &mut out);
            }
            inline => {
                out.push_str(&inline.render_inline());
                out.push('\n');
            }
        }
        out
    }

    fn is_block(&self) -> bool {
        match self {
            Doc::Map { flow, entries } => !flow && !entries.is_empty(),
            Doc::List { flow, items } => !flow && !items.is_empty(),
            _ => false,
        }
    }

    fn render_block(&self, indent: usize, out: &mut String) {
        let pad = " ".repeat(indent);
        match self {
            Doc::Map { entries, .. } => {
                for entry in entries {
                    if entry.comment {
                        out.push_str(&format!("{pad}# {}\n\n", entry.key.len()));
                    }
                    let key = text_scalar(&entry.key);
                    if entry.value.is_block() {
                        out.push_str(&format!("{pad}{key}:\n"));
                        entry.value.render_block(indent + 2, out);
                    } else {
                        out.push_str(&format!("{pad}{key}: {}\n", entry.value.render_inline()));
                    }
                }
            }
            Doc::List { items, .. } => {
                for item in items {
                    if item.is_block() {
                        out.push_str(&format!("{pad}-\n"));
                        item.render_block(indent + 2, out);
                    } else {
                        out.push_str(&format!("{pad}- {}\n", item.render_inline()));
                    }
                }
            }
            scalar => out.push_str(&format!("{pad}{}\n", scalar.render_inline())),
        }
    }

    fn render_inline(&self) -> String {
        match self {
            Doc::Int(number) => number.to_string(),
            // Debug keeps a decimal point, so the value reads back as a float, not an int.
            Doc::Float(number) => format!("{number:?}"),
            Doc::Bool(flag) => flag.to_string(),
            Doc::Null => "~".to_owned(),
            Doc::Raw(yaml) => (*yaml).to_owned(),
            Doc::Text(text) => text_scalar(text),
            Doc::List { items, .. } => {
                let items: Vec<String> = items.iter().map(Doc::render_inline).collect();
                format!("[{}]", items.join(", "))
            }
            Doc::Map { entries, .. } => {
                let entries: Vec<String> = entries
                    .iter()
                    .map(|entry| {
                        format!(
                            "{}: {}",
                            text_scalar(&entry.key),
                            entry.value.render_inline()
                        )
                    })
                    .collect();
                format!("{{{}}}", entries.join(", "))
            }
        }
    }
}

/// Plain when that cannot change the meaning, else double-quoted with JSON escapes (JSON's
/// string escapes are a subset of YAML's double-quoted ones).
pub(super) fn text_scalar(text: &str) -> String {
    let plain_safe = text.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '/' | '.' | '-'))
        && !matches!(
            text.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n"
        );
    if plain_safe {
        text.to_owned()
    } else {
        serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
    }
}
