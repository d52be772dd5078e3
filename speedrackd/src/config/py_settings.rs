//! A Speedrack 0.6.1 settings file (`speedrack_settings.py`) as the YAML settings reader takes
//! it. 0.6.1 executed the file and kept its UPPERCASE names, as Flask does; here nothing is
//! executed: `py_lex` and `py_parse` read the assignments, and this file writes each setting
//! as one entry of a YAML flow mapping on the line where the Python file assigned it. The
//! settings reader then applies every check it applies to YAML, and its errors name the line
//! of the `.py` file. Lowercase names are helpers for later lines, as in 0.6.1, except for the
//! settings' own (lowercase) keys, which are settings here too.

use super::py_lex::tokenize;
use super::py_parse::{Assignment, parse};
use super::py_value::{PyError, PyValue};

/// Whether `path` names a Python settings file.
pub fn is_python(path: &std::path::Path) -> bool {
    path.extension().is_some_and(|extension| extension == "py")
}

/// The settings of a `.py` file as YAML text, each on its line of the file; `is_key` tells the
/// settings' own key names.
pub fn to_yaml(text: &str, is_key: impl Fn(&str) -> bool) -> Result<String, PyError> {
    let tokens = tokenize(text)?;
    let assignments = parse(&tokens, text)?;
    let mut settings: Vec<&Assignment> = Vec::new();
    for assignment in &assignments {
        if !(is_upper(&assignment.name) || is_key(&assignment.name)) {
            continue;
        }
        // A name assigned twice has its last value, as in Python.
        settings.retain(|earlier| earlier.name != assignment.name);
        settings.push(assignment);
    }
    settings.sort_by_key(|assignment| assignment.line);
    Ok(flow_mapping(&settings))
}

/// Python's `str.isupper()`, which Flask used to pick the settings out of the file.
fn is_upper(name: &str) -> bool {
    name.chars().any(char::is_uppercase) && !name.chars().any(char::is_lowercase)
}

/// `{"A": 1` on A's line, `, "B": 2` on B's, `}` at the end; other lines empty.
fn flow_mapping(settings: &[&Assignment]) -> String {
    let Some(last) = settings.last() else {
        return String::new();
    };
    let mut lines = vec![String::new(); last.line];
    for (index, assignment) in settings.iter().enumerate() {
        let line = &mut lines[assignment.line - 1];
        line.push_str(if index == 0 { "{" } else { ", " });
        PyValue::Str(assignment.name.clone()).write_yaml(line);
        line.push_str(": ");
        assignment.value.write_yaml(line);
    }
    lines[last.line - 1].push('}');
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Texts near the grammar, so that most of the parser is reached, and any character.
    fn python_ish() -> impl Strategy<Value = String> {
        let fragment = prop_oneof![
            3 => prop::sample::select(vec![
                "A", "B_C", "x", " = ", "=", "1", "-", "+", "*", "**", "//", "/", "%", "(", ")",
                "[", "]", "{", "}", ",", ":", "'a'", "\"b\"", "'''", "r'\\d'", "u'\\u00e9'",
                "\\\n", "\n", "    ", "#c", "True", "None", "import", "if", ".", "é", "\\", "'",
                "\"", "1e3", "0x1F", "017", "99999999999999999999", ";", "\r\n", "\t",
            ])
            .prop_map(str::to_owned),
            1 => any::<char>().prop_map(String::from),
        ];
        prop::collection::vec(fragment, 0..40).prop_map(|parts| parts.concat())
    }

    proptest! {
        #[test]
        fn any_text_is_read_or_refused_on_one_of_its_lines(text in python_ish()) {
            let lines = text.lines().count().max(1);
            match to_yaml(&text, |_| false) {
                Ok(yaml) => {
                    prop_assert!(yaml.lines().count() <= lines, "{:?} -> {:?}", text, yaml);
                    if !yaml.is_empty() {
                        let read = serde_yaml::from_str::<serde_yaml::Value>(&yaml);
                        prop_assert!(read.is_ok(), "{:?} -> {:?}: {:?}", text, yaml, read);
                    }
                }
                Err(error) => {
                    prop_assert!((1..=lines).contains(&error.line), "{:?}: {:?}", text, error);
                }
            }
        }
    }

    fn yaml(text: &str) -> String {
        to_yaml(text, |name| name == "timezone").expect(text)
    }

    #[test]
    fn settings_keep_their_lines_and_helpers_are_left_out() {
        let text = "# Speedrack configuration file\nbase = '/srv'\nDEBUG = False\n\n\
                    SPEEDRACK_DIR = base + '/sprack'\nLOG_MAX_SIZE = 1024 * 1024 * 5\n\
                    EMAIL_TO_GLOBAL = [\n  'a@x.org',\n]\ntimezone = 'UTC'\n";
        let expected = "\n\n{\"DEBUG\": false\n\n, \"SPEEDRACK_DIR\": \"/srv/sprack\"\n\
                        , \"LOG_MAX_SIZE\": 5242880\n, \"EMAIL_TO_GLOBAL\": [\"a@x.org\"]\n\n\n\
                        , \"timezone\": \"UTC\"}\n";
        assert_eq!(yaml(text), expected);
        let read: serde_yaml::Value = serde_yaml::from_str(expected).expect("YAML");
        assert_eq!(read["LOG_MAX_SIZE"], serde_yaml::Value::from(5_242_880));
    }

    #[test]
    fn the_last_assignment_wins_and_semicolons_share_a_line() {
        assert_eq!(yaml("A = 1\nA = 2\n"), "\n{\"A\": 2}\n");
        assert_eq!(yaml("A = 1; B = 'x'\n"), "{\"A\": 1, \"B\": \"x\"}\n");
        assert_eq!(yaml("# nothing\nhelper = 1\n"), "");
    }

    #[test]
    fn python_names_that_yaml_would_misread_stay_text() {
        let read: serde_yaml::Value =
            serde_yaml::from_str(&yaml("TRUE = 1\nNULL = 2\n")).expect("YAML");
        assert_eq!(read["TRUE"], serde_yaml::Value::from(1));
        assert_eq!(read["NULL"], serde_yaml::Value::from(2));
    }

    #[test]
    fn refusals_come_from_the_reader_with_their_line() {
        let error = to_yaml("A = 1\nimport os\n", |_| false).expect_err("code");
        assert_eq!(error.line, 2);
        assert!(is_python(std::path::Path::new(
            "/etc/speedrack_settings.py"
        )));
        assert!(!is_python(std::path::Path::new(
            "/etc/speedrack_settings.yaml"
        )));
    }
}
