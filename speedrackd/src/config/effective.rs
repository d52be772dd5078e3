//! Where each setting in effect came from: a command-line flag, the settings file, or the
//! default. The settings file alone cannot say this for the paths the daemon resolves at start
//! (socket, data_dir, tasks_file) or for the web UI's `listen`, which flags override; those
//! come as `Effective` values and win over the file's entry of the same name.
//!
//! Pure: it merges what `startup.rs` and `commands.rs` resolved; it resolves nothing itself.

use std::path::Path;

use crate::config::Settings;

/// Where a value in effect came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Default,
    SettingsFile,
    Flag,
}

impl Source {
    /// A flag's value wins, then the file's; `None` for both is the default.
    pub fn of<T>(flag: Option<&T>, file: Option<&T>) -> Source {
        match (flag, file) {
            (Some(_), _) => Source::Flag,
            (None, Some(_)) => Source::SettingsFile,
            (None, None) => Source::Default,
        }
    }
}

/// A setting as the daemon resolved and uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effective {
    /// The settings file's key.
    pub name: &'static str,
    pub value: String,
    pub source: Source,
}

impl Effective {
    pub fn path(name: &'static str, path: &Path, source: Source) -> Effective {
        Effective {
            name,
            value: path.display().to_string(),
            source,
        }
    }
}

/// One row of the settings in effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InEffect {
    pub name: String,
    /// As YAML for the file's entries (secrets redacted); as resolved for `Effective` ones.
    pub value: String,
    /// The settings file does not set it.
    pub is_default: bool,
    pub source: Source,
}

/// Every setting of `settings`, in its order, with `resolved` taking the place of the entry of
/// the same name.
pub fn in_effect(settings: &Settings, resolved: &[Effective]) -> Vec<InEffect> {
    settings
        .entries()
        .into_iter()
        .map(|(name, value, is_default)| {
            match resolved.iter().find(|effective| effective.name == name) {
                Some(effective) => InEffect {
                    name,
                    value: effective.value.clone(),
                    is_default,
                    source: effective.source,
                },
                None => InEffect {
                    name,
                    value,
                    is_default,
                    source: if is_default {
                        Source::Default
                    } else {
                        Source::SettingsFile
                    },
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolved_values_take_the_place_of_the_files() {
        let settings = crate::config::parse_settings("kill_grace: 9s\nsocket: /from/file.sock\n")
            .expect("settings");
        let resolved = [
            Effective::path("socket", Path::new("/from/flag.sock"), Source::Flag),
            Effective::path("data_dir", Path::new("/var/lib/x"), Source::Default),
        ];
        let rows = in_effect(&settings, &resolved);
        let row = |name: &str| {
            rows.iter()
                .find(|row| row.name == name)
                .unwrap_or_else(|| panic!("{name} is listed"))
        };
        assert_eq!(row("socket").value, "/from/flag.sock");
        assert_eq!(row("socket").source, Source::Flag);
        assert!(!row("socket").is_default, "the file sets it, the flag wins");
        assert_eq!(row("data_dir").value, "/var/lib/x");
        assert_eq!(row("data_dir").source, Source::Default);
        assert_eq!(row("kill_grace").source, Source::SettingsFile);
        assert_eq!(row("shell").source, Source::Default);
        assert_eq!(Source::of(Some(&1), Some(&2)), Source::Flag);
        assert_eq!(Source::of(None, Some(&2)), Source::SettingsFile);
        assert_eq!(Source::of::<u8>(None, None), Source::Default);
    }
}
