//! A Speedrack 0.6.1 execution's `op_params.txt`: the JSON of the task's parameters when it ran.
//! Its `fail_by_retcode`/`fail_by_stderr` override the settings when set (not null), with
//! Python's truthiness, as 0.6.1 read them; the whole is kept as the run's definition, in YAML
//! like the daemon's own. A file that is not JSON counts as absent, as it did for 0.6.1, and is
//! kept as written. Pure: the caller reads the file (bounded).

use serde_json::Value;

/// What an execution's parameters say.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Params {
    pub fail_by_retcode: Option<bool>,
    pub fail_by_stderr: Option<bool>,
    /// The parameters for the run's definition; empty when there were none.
    pub definition: String,
}

/// Reads the text of `op_params.txt`; `None` when there is no such file.
pub fn parse_params(text: Option<&str>) -> Params {
    let Some(text) = text.filter(|text| !text.is_empty()) else {
        return Params::default();
    };
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Params {
            fail_by_retcode: map.get("fail_by_retcode").and_then(truthy),
            fail_by_stderr: map.get("fail_by_stderr").and_then(truthy),
            definition: as_yaml(&Value::Object(map), text),
        },
        Ok(_) | Err(_) => Params {
            definition: format!(
                "# Speedrack 0.6.1's op_params.txt, not a JSON object (0.6.1 ignored it too):\n{text}"
            ),
            ..Params::default()
        },
    }
}

/// Python's `bool()` of a JSON value; `None` for null (0.6.1 then used the settings).
fn truthy(value: &Value) -> Option<bool> {
    match value {
        Value::Null => None,
        Value::Bool(flag) => Some(*flag),
        Value::Number(number) => Some(number.as_f64() != Some(0.0)),
        Value::String(text) => Some(!text.is_empty()),
        Value::Array(items) => Some(!items.is_empty()),
        Value::Object(map) => Some(!map.is_empty()),
    }
}

fn as_yaml(value: &Value, text: &str) -> String {
    let header = "# Speedrack 0.6.1's op_params.txt for this run\n";
    match serde_yaml::to_string(value) {
        Ok(yaml) => format!("{header}{yaml}"),
        // JSON is YAML already: a value serde_yaml cannot write is kept as written.
        Err(_) => format!("{header}{text}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_run_rules_override_when_set_with_pythons_truthiness() {
        let cases = [
            (
                r#"{"fail_by_stderr": false, "fail_by_retcode": true}"#,
                Some(true),
                Some(false),
            ),
            (
                r#"{"fail_by_stderr": null, "fail_by_retcode": null}"#,
                None,
                None,
            ),
            (r#"{"name": "x"}"#, None, None),
            (
                r#"{"fail_by_stderr": "oh hell yes", "fail_by_retcode": 0}"#,
                Some(false),
                Some(true),
            ),
            (
                r#"{"fail_by_stderr": "", "fail_by_retcode": [1]}"#,
                Some(true),
                Some(false),
            ),
            ("not json", None, None),
            ("[true]", None, None),
        ];
        for (text, retcode, stderr) in cases {
            let params = parse_params(Some(text));
            assert_eq!(
                (params.fail_by_retcode, params.fail_by_stderr),
                (retcode, stderr),
                "{text}"
            );
        }
        assert_eq!(parse_params(None), Params::default());
        assert_eq!(parse_params(Some("")), Params::default());
    }

    #[test]
    fn keeps_the_parameters_as_yaml_or_as_written() {
        let params = parse_params(Some(
            r#"{"command": "echo hi", "max_keep": 5, "name": "greeter", "spam": null}"#,
        ));
        assert_eq!(
            params.definition,
            "# Speedrack 0.6.1's op_params.txt for this run\n\
             command: echo hi\nmax_keep: 5\nname: greeter\nspam: null\n"
        );
        let broken = parse_params(Some("{\"name\": "));
        assert!(broken.definition.ends_with("\n{\"name\": "), "{broken:?}");
    }
}
