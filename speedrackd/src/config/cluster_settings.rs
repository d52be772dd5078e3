//! The settings that put a daemon in a cluster: `store` (where history lives and through which
//! nodes coordinate), `node` (this daemon's name among them) and `busy` (when it yields its
//! fires to idle nodes). Only parsing and validation live here; what the cluster does with
//! them is `crate::cluster`'s.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Where history lives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum StoreUrl {
    /// The data dir's embedded SQLite database: one node.
    #[default]
    Sqlite,
    /// A PostgreSQL database shared by every node of a cluster, as a `postgres://` URL without
    /// a password (`store_password_file` holds it, so that it is never shown or logged).
    Postgres(String),
}

impl StoreUrl {
    pub fn parse(text: &str) -> Result<StoreUrl, String> {
        if text == "sqlite" {
            return Ok(StoreUrl::Sqlite);
        }
        let Some(rest) = text
            .strip_prefix("postgres://")
            .or_else(|| text.strip_prefix("postgresql://"))
        else {
            return Err(format!(
                "store {text:?} is neither `sqlite` nor a postgres:// URL \
                 (write it like postgres://speedrack@db.example/speedrack)"
            ));
        };
        let authority = rest.split(['/', '?']).next().unwrap_or_default();
        if let Some((user_info, _)) = authority.rsplit_once('@')
            && user_info.contains(':')
        {
            return Err(format!(
                "store URL {} holds a password; put the password in a file of mode 0600 \
                 and name it with store_password_file",
                redact(text)
            ));
        }
        let (before_query, query) = text.split_once('?').unwrap_or((text, ""));
        let password_parameter = query.split('&').any(|pair| {
            let key = pair.split('=').next().unwrap_or_default();
            key.eq_ignore_ascii_case("password")
        });
        if password_parameter {
            return Err(format!(
                "store URL {}?… holds a password (its password parameter); put the password in \
                 a file of mode 0600 and name it with store_password_file",
                redact(before_query)
            ));
        }
        Ok(StoreUrl::Postgres(text.to_owned()))
    }
}

/// The URL with anything between `://` and `@` hidden, for error messages.
fn redact(text: &str) -> String {
    match (text.find("://"), text.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://…{}", &text[..scheme], &text[at..])
        }
        _ => text.to_owned(),
    }
}

impl fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreUrl::Sqlite => f.write_str("sqlite"),
            StoreUrl::Postgres(url) => f.write_str(url),
        }
    }
}

impl Serialize for StoreUrl {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for StoreUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // A visitor, so that serde_yaml places a refusal on the value's own line.
        struct Url;
        impl Visitor<'_> for Url {
            type Value = StoreUrl;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`sqlite` or a postgres:// URL")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<StoreUrl, E> {
                StoreUrl::parse(text).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Url)
    }
}

/// A node's name: what history records as where a run ran, and what `run_on` names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeName(String);

/// Longer names would not fit a table column; a host name's label is at most 63 bytes.
const NODE_NAME_MAX: usize = 63;

impl NodeName {
    pub fn parse(text: &str) -> Result<NodeName, String> {
        let fine = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        if text.is_empty() || text.len() > NODE_NAME_MAX || !text.chars().all(fine) {
            return Err(format!(
                "node name {text:?} must be 1 to {NODE_NAME_MAX} letters, digits, '-', '_' or '.'"
            ));
        }
        Ok(NodeName(text.to_owned()))
    }

    /// The host's name as the kernel has it, cut to what a node name allows, or `localhost`.
    pub fn of_host() -> NodeName {
        let host = nix::unistd::gethostname()
            .ok()
            .and_then(|name| name.into_string().ok())
            .unwrap_or_default();
        let kept: String = host
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '_'
                }
            })
            .take(NODE_NAME_MAX)
            .collect();
        NodeName::parse(&kept).unwrap_or_else(|_| NodeName("localhost".to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NodeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for NodeName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for NodeName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Name;
        impl Visitor<'_> for Name {
            type Value = NodeName;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a node name like web-01")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<NodeName, E> {
                NodeName::parse(text).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Name)
    }
}

/// When a node counts as busy and yields its share of fires to nodes that are not.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BusySettings {
    /// The 1-minute load average per CPU at or above which the node is busy; 0: never by load.
    pub load: LoadPerCpu,
    /// Runs in flight on the node at or above which it is busy; 0: never by count.
    pub runs: u32,
}

impl Default for BusySettings {
    fn default() -> BusySettings {
        BusySettings {
            load: LoadPerCpu(1.5),
            runs: 0,
        }
    }
}

/// A load average per CPU: a finite number from 0 to [`LoadPerCpu::MAX`].
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
pub struct LoadPerCpu(pub f64);

impl LoadPerCpu {
    /// A machine loaded beyond this is not one to tell apart from a busy one.
    pub const MAX: f64 = 100.0;
}

impl<'de> Deserialize<'de> for LoadPerCpu {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let load = f64::deserialize(deserializer)?;
        if !(0.0..=LoadPerCpu::MAX).contains(&load) {
            return Err(de::Error::custom(format!(
                "busy load {load} is out of range; write a load average per CPU from 0 (never \
                 busy by load) to {}",
                LoadPerCpu::MAX
            )));
        }
        Ok(LoadPerCpu(load))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_takes_a_load_per_cpu_in_range_and_a_run_count() {
        let read = |text: &str| serde_yaml::from_str::<BusySettings>(text);
        assert_eq!(read("{}").expect("defaults"), BusySettings::default());
        let set = read("{load: 0.75, runs: 20}").expect("valid");
        assert_eq!((set.load, set.runs), (LoadPerCpu(0.75), 20));
        for bad in [
            "{load: -1}",
            "{load: 101}",
            "{load: .nan}",
            "{runs: -1}",
            "{cpus: 2}",
        ] {
            assert!(read(bad).is_err(), "{bad}");
        }
        let error = read("{load: 500}").expect_err("out of range").to_string();
        assert!(error.contains("from 0"), "{error}");
    }

    #[test]
    fn a_store_is_sqlite_or_a_postgres_url_without_a_password() {
        assert_eq!(StoreUrl::parse("sqlite"), Ok(StoreUrl::Sqlite));
        let url = "postgres://speedrack@db.example:5433/speedrack?sslmode=require";
        assert_eq!(StoreUrl::parse(url), Ok(StoreUrl::Postgres(url.to_owned())));
        let refused =
            StoreUrl::parse("postgres://speedrack:hunter2@db/speedrack").expect_err("refused");
        assert!(refused.contains("store_password_file"), "{refused}");
        assert!(!refused.contains("hunter2"), "{refused}");
        let refused =
            StoreUrl::parse("postgres://speedrack@db/speedrack?sslmode=require&Password=hunter2")
                .expect_err("a password parameter is a password too");
        assert!(refused.contains("store_password_file"), "{refused}");
        assert!(!refused.contains("hunter2"), "{refused}");
        assert!(StoreUrl::parse("mysql://db").is_err());
    }

    #[test]
    fn node_names_are_short_and_plain() {
        assert_eq!(
            NodeName::parse("web-01.lan").map(|n| n.0),
            Ok("web-01.lan".into())
        );
        assert!(NodeName::parse("").is_err());
        assert!(NodeName::parse("a/b").is_err());
        assert!(NodeName::parse(&"x".repeat(64)).is_err());
        assert!(NodeName::parse(NodeName::of_host().as_str()).is_ok());
    }
}
