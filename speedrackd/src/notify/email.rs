//! Sending one notice by SMTP (lettre, async, rustls). The password is read at send time from
//! its file or variable and never logged.

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::message::{Notice, html_body, subject, text_body};
use crate::config::{EmailSettings, SmtpTls};

const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a mail was not sent; the text goes on the run's record.
#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    #[error("no email.smtp_host in the settings (name the mail server there)")]
    NoHost,
    #[error("no email.from in the settings (give the sender's address there)")]
    NoFrom,
    #[error("{address:?} is not an email address: {source} (fix it in the settings or the task)")]
    Address {
        address: String,
        #[source]
        source: lettre::address::AddressError,
    },
    #[error("cannot build the message: {0}")]
    Build(#[source] lettre::error::Error),
    #[error("cannot set up TLS to {host}: {source} (check email.smtp_host and email.smtp_tls)")]
    Tls {
        host: String,
        #[source]
        source: lettre::transport::smtp::Error,
    },
    #[error("cannot read smtp_password_file {}: {source}", path.display())]
    PasswordFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "cannot read {name}, which smtp_password_env names: {source} (set it in the daemon's \
         environment)"
    )]
    PasswordEnv {
        name: String,
        #[source]
        source: std::env::VarError,
    },
    #[error("smtp_username is set but neither smtp_password_file nor smtp_password_env (set one)")]
    NoPassword,
    #[error("{host}:{port}: {source}")]
    Send {
        host: String,
        port: u16,
        #[source]
        source: lettre::transport::smtp::Error,
    },
}

/// Sends `notice` to `to`.
pub async fn send(
    settings: &EmailSettings,
    to: &[String],
    notice: &Notice,
) -> Result<(), EmailError> {
    let host = settings.smtp_host.as_deref().ok_or(EmailError::NoHost)?;
    let from = settings.from.as_deref().ok_or(EmailError::NoFrom)?;
    let mut builder = Message::builder()
        .from(mailbox(from)?)
        .subject(subject(notice))
        .message_id(Some(message_id(&notice.host)))
        .raw_header(auto_submitted());
    for address in to {
        builder = builder.to(mailbox(address)?);
    }
    let message = builder
        .multipart(MultiPart::alternative_plain_html(
            text_body(notice),
            html_body(notice),
        ))
        .map_err(EmailError::Build)?;
    let tls = |source| EmailError::Tls {
        host: host.to_owned(),
        source,
    };
    let transport = match settings.smtp_tls {
        SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
        SmtpTls::Starttls => {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host).map_err(tls)?
        }
        SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(tls)?,
    };
    let mut transport = transport
        .port(settings.smtp_port)
        .timeout(Some(SMTP_TIMEOUT));
    if let Some(user) = &settings.smtp_username {
        transport = transport.credentials(Credentials::new(user.clone(), password(settings)?));
    }
    transport
        .build()
        .send(message)
        .await
        .map(|_| ())
        .map_err(|source| EmailError::Send {
            host: host.to_owned(),
            port: settings.smtp_port,
            source,
        })
}

/// `<RANDOM@HOST>`: unique, and says where it comes from (RFC 5322 3.6.4).
fn message_id(host: &str) -> String {
    format!("<{:032x}@{host}>", rand::random::<u128>())
}

/// RFC 3834: no person wrote this, so vacation responders and the like do not answer it.
fn auto_submitted() -> HeaderValue {
    HeaderValue::new(
        HeaderName::new_from_ascii_str("Auto-Submitted"),
        "auto-generated".to_owned(),
    )
}

fn mailbox(address: &str) -> Result<Mailbox, EmailError> {
    address.parse().map_err(|source| EmailError::Address {
        address: address.to_owned(),
        source,
    })
}

fn password(settings: &EmailSettings) -> Result<String, EmailError> {
    if let Some(path) = &settings.smtp_password_file {
        let text = std::fs::read_to_string(path).map_err(|source| EmailError::PasswordFile {
            path: path.clone(),
            source,
        })?;
        return Ok(text.trim_end_matches(['\r', '\n']).to_owned());
    }
    if let Some(name) = &settings.smtp_password_env {
        return std::env::var(name).map_err(|source| EmailError::PasswordEnv {
            name: name.clone(),
            source,
        });
    }
    Err(EmailError::NoPassword)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_are_unique_and_name_the_host() {
        let (first, second) = (message_id("cron1"), message_id("cron1"));
        assert_ne!(first, second);
        assert!(
            first.starts_with('<') && first.ends_with("@cron1>"),
            "{first}"
        );
    }

    #[test]
    fn a_missing_password_says_where_it_should_come_from() {
        let mut settings = EmailSettings {
            smtp_username: Some("mailer".to_owned()),
            ..EmailSettings::default()
        };
        let error = password(&settings).expect_err("no password source");
        assert_eq!(
            error.to_string(),
            "smtp_username is set but neither smtp_password_file nor smtp_password_env (set one)"
        );
        settings.smtp_password_env = Some("SPEEDRACK_TEST_NEVER_SET".to_owned());
        let error = password(&settings).expect_err("an unset variable");
        assert!(
            matches!(
                &error,
                EmailError::PasswordEnv {
                    source: std::env::VarError::NotPresent,
                    ..
                }
            ),
            "{error:?}"
        );
        assert!(
            error
                .to_string()
                .starts_with("cannot read SPEEDRACK_TEST_NEVER_SET, which smtp_password_env names"),
            "{error}"
        );
    }
}
