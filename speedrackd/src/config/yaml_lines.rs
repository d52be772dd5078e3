//! Where things are in a YAML file: a tree of line numbers, built from a marked event parser.
//!
//! serde_yaml's values carry no positions, yet every conf error must name its line. This module
//! answers "on which line is task 3" and "on which line is its `cron.minute` key". It does not
//! interpret values; that stays with serde.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// A YAML node with the line it starts on (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Scalar { line: usize },
    Sequence { line: usize, items: Vec<Node> },
    Mapping { line: usize, entries: Vec<Entry> },
}

/// One key of a mapping, with the line of the key and its value node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    pub line: usize,
    pub value: Node,
}

impl Node {
    pub fn line(&self) -> usize {
        match self {
            Node::Scalar { line } | Node::Sequence { line, .. } | Node::Mapping { line, .. } => {
                *line
            }
        }
    }

    /// The entry of a mapping by key (the first, if written twice).
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        match self {
            Node::Mapping { entries, .. } => entries.iter().find(|entry| entry.key == key),
            _ => None,
        }
    }

    pub fn items(&self) -> &[Node] {
        match self {
            Node::Sequence { items, .. } => items,
            _ => &[],
        }
    }

    /// Line of a key path like `cron.minute` inside this mapping.
    pub fn line_of(&self, path: &str) -> Option<usize> {
        let mut node = self;
        let mut line = None;
        for part in path.split('.') {
            let entry = node.entry(part)?;
            line = Some(entry.line);
            node = &entry.value;
        }
        line
    }
}

/// The positions of the first document in `text`; `None` when it is not YAML (serde reports why).
pub fn positions(text: &str) -> Option<Node> {
    let mut builder = Builder::default();
    Parser::new_from_str(text).load(&mut builder, false).ok()?;
    builder.root
}

/// The line to name for a whole-file error that serde_yaml reports without a position (a second
/// document, a top-level value of the wrong kind): the start of the second document when there
/// is one, since serde_yaml refuses any text with two; else where the first document's content
/// starts; else line 1.
pub fn document_line(text: &str) -> usize {
    let mut starts = DocumentStarts::default();
    // Text yaml-rust2 cannot read to the end still yields the events before the problem, and
    // those are all this needs.
    let _ = Parser::new_from_str(text).load(&mut starts, true);
    starts.second_document.or(starts.first_node).unwrap_or(1)
}

#[derive(Default)]
struct DocumentStarts {
    documents: usize,
    second_document: Option<usize>,
    first_node: Option<usize>,
}

impl MarkedEventReceiver for DocumentStarts {
    fn on_event(&mut self, event: Event, mark: Marker) {
        match event {
            Event::DocumentStart => {
                self.documents += 1;
                if self.documents == 2 {
                    self.second_document = Some(mark.line());
                }
            }
            Event::Scalar(..)
            | Event::Alias(_)
            | Event::SequenceStart(..)
            | Event::MappingStart(..) => {
                self.first_node.get_or_insert(mark.line());
            }
            _ => {}
        }
    }
}

/// Builds the tree from events: a stack of open collections, each waiting for its children.
#[derive(Default)]
struct Builder {
    stack: Vec<Open>,
    root: Option<Node>,
}

enum Open {
    Sequence {
        line: usize,
        items: Vec<Node>,
    },
    /// A mapping and, between a key and its value, the pending key.
    Mapping {
        line: usize,
        entries: Vec<Entry>,
        key: Option<(String, usize)>,
    },
}

impl Builder {
    fn push_node(&mut self, node: Node, key_text: Option<String>) {
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Open::Sequence { items, .. }) => items.push(node),
            Some(Open::Mapping { entries, key, .. }) => match key.take() {
                Some((key, line)) => entries.push(Entry {
                    key,
                    line,
                    value: node,
                }),
                // A complex (non-scalar) key is rare in config files; its text is not needed.
                None => *key = Some((key_text.unwrap_or_default(), node.line())),
            },
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        let line = mark.line();
        match event {
            Event::Scalar(text, ..) => self.push_node(Node::Scalar { line }, Some(text)),
            Event::Alias(_) => self.push_node(Node::Scalar { line }, None),
            Event::SequenceStart(..) => self.stack.push(Open::Sequence {
                line,
                items: Vec::new(),
            }),
            Event::MappingStart(..) => self.stack.push(Open::Mapping {
                line,
                entries: Vec::new(),
                key: None,
            }),
            Event::SequenceEnd | Event::MappingEnd => {
                let node = match self.stack.pop() {
                    Some(Open::Sequence { line, items }) => Node::Sequence { line, items },
                    Some(Open::Mapping { line, entries, .. }) => Node::Mapping { line, entries },
                    None => return,
                };
                self.push_node(node, None);
            }
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart
            | Event::DocumentEnd => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# comment
tasks:
  - name: first
    command: x
    cron:
      second: 5
      minutes: 30
  - {name: second, interval: 1m}
";

    #[test]
    fn finds_tasks_and_nested_keys_by_line() {
        let root = positions(TEXT).expect("valid yaml");
        let tasks = &root.entry("tasks").expect("tasks key").value;
        assert_eq!(tasks.items().len(), 2);
        assert_eq!(tasks.items()[0].line(), 3);
        assert_eq!(tasks.items()[0].line_of("command"), Some(4));
        assert_eq!(tasks.items()[0].line_of("cron.minutes"), Some(7));
        assert_eq!(tasks.items()[0].line_of("cron.hour"), None);
        assert_eq!(tasks.items()[1].line(), 8);
    }

    #[test]
    fn position_less_errors_point_at_the_second_document_or_the_first_content() {
        let cases = [
            ("tasks: []\n---\ntasks: []\n", 2),
            ("# comment\n\n- a\n- b\n", 3),
            ("{}\u{11280}", 1),
            ("", 1),
        ];
        for (text, line) in cases {
            assert_eq!(document_line(text), line, "{text:?}");
        }
    }

    #[test]
    fn text_that_is_not_yaml_has_no_positions() {
        assert_eq!(positions("tasks: [unclosed"), None);
    }
}
