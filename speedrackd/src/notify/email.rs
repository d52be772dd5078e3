//! Sending one notice by SMTP (lettre, async, rustls). The password is read at send time from
//! its file or variable and never logged.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::message::{Notice, html_body, subject, text_body};
use crate::config::{EmailSettings, SmtpTls};

const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Sends `notice` to `to`; the error says what failed, for the run's record.
pub async fn send(settings: &EmailSettings, to: &[String], notice: &Notice) -> Result<(), String> {
    let host = settings
        .smtp_host
        .as_deref()
        .ok_or("no smtp_host in the settings")?;
    let from = settings
        .from
        .as_deref()
        .ok_or("no email.from in the settings")?;
    let mut builder = Message::builder()
        .from(mailbox(from)?)
        .subject(subject(notice));
    for address in to {
        builder = builder.to(mailbox(address)?);
    }
    let message = builder
        .multipart(MultiPart::alternative_plain_html(
            text_body(notice),
            html_body(notice),
        ))
        .map_err(|error| format!("cannot build the message: {error}"))?;
    let transport = match settings.smtp_tls {
        SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
        SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
            .map_err(|error| error.to_string())?,
        SmtpTls::Tls => {
            AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(|error| error.to_string())?
        }
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
        .map_err(|error| format!("{host}:{}: {error}", settings.smtp_port))
}

fn mailbox(address: &str) -> Result<Mailbox, String> {
    address
        .parse()
        .map_err(|error| format!("{address:?} is not an email address: {error}"))
}

fn password(settings: &EmailSettings) -> Result<String, String> {
    if let Some(path) = &settings.smtp_password_file {
        let text = std::fs::read_to_string(path).map_err(|error| {
            format!("cannot read smtp_password_file {}: {error}", path.display())
        })?;
        return Ok(text.trim_end_matches(['\r', '\n']).to_owned());
    }
    if let Some(name) = &settings.smtp_password_env {
        return std::env::var(name)
            .map_err(|_| format!("smtp_password_env names {name}, which is not set"));
    }
    Err("smtp_username is set but neither smtp_password_file nor smtp_password_env".to_owned())
}
