//! Where the gateway's own settings came from (its address and the daemon's socket it talks
//! to), for the config page: the daemon reports its settings through GetConfig, but only the
//! gateway knows how it was started, and a standalone gateway may differ from the daemon's.
//!
//! Only the facts as the binary that started the gateway resolved them; nothing is resolved
//! here.

/// Where a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A command-line flag.
    Flag,
    /// An environment variable.
    Environment,
    /// speedrackd's settings file.
    SettingsFile,
    /// The built-in default, or for the socket the discovery rule's answer.
    Default,
    /// speedrackd hosts the gateway: the daemon's own socket.
    Daemon,
}

impl Source {
    /// How the config page says it.
    pub fn words(self) -> &'static str {
        match self {
            Source::Flag => "command-line flag",
            Source::Environment => "environment",
            Source::SettingsFile => "settings file",
            Source::Default => "default",
            Source::Daemon => "speedrackd's own",
        }
    }
}

/// Where the gateway's address and socket came from, as the binary that started it knows;
/// `None` where it does not say.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GatewayOrigin {
    pub listen: Option<Source>,
    pub socket: Option<Source>,
}

/// One of the gateway's settings as in effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    pub value: String,
    pub source: Option<Source>,
}

/// The gateway's address (as bound: a port 0 resolved) and socket, with their sources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayFacts {
    pub listen: Fact,
    pub socket: Fact,
}
