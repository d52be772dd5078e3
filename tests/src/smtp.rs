//! A real SMTP server (mailin-embedded) on a free loopback port, collecting every message it
//! receives, for tests of the daemon's mail.

use std::net::{IpAddr, TcpListener};
use std::sync::mpsc;
use std::time::Duration;

use mailin_embedded::response::OK;
use mailin_embedded::{Handler, Response, Server, SslConfig};

/// One message as the server received it.
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// Headers and body, as sent.
    pub data: String,
}

impl Mail {
    pub fn subject(&self) -> Option<&str> {
        self.data
            .lines()
            .find_map(|line| line.strip_prefix("Subject: "))
    }
}

/// A running SMTP server; it stops with the test process.
pub struct SmtpServer {
    pub port: u16,
    received: mpsc::Receiver<Mail>,
}

#[derive(Clone)]
struct Collector {
    sender: mpsc::Sender<Mail>,
    current: Option<Mail>,
}

impl Handler for Collector {
    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.current = Some(Mail {
            from: from.to_owned(),
            to: to.to_vec(),
            data: String::new(),
        });
        OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if let Some(mail) = self.current.as_mut() {
            mail.data.push_str(&String::from_utf8_lossy(buf));
        }
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        if let Some(mail) = self.current.take() {
            let _ = self.sender.send(mail);
        }
        OK
    }

    fn helo(&mut self, _ip: IpAddr, _domain: &str) -> Response {
        OK
    }
}

impl SmtpServer {
    /// Binds a free port, then serves on a thread of its own.
    pub fn start() -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a port for SMTP");
        let port = listener.local_addr().expect("local address").port();
        let (sender, received) = mpsc::channel();
        let mut server = Server::new(Collector {
            sender,
            current: None,
        });
        server
            .with_name("smtp.test")
            .with_ssl(SslConfig::None)
            .expect("no TLS")
            .with_tcp_listener(listener);
        std::thread::spawn(move || {
            if let Err(error) = server.serve() {
                eprintln!("the test SMTP server stopped: {error}");
            }
        });
        SmtpServer { port, received }
    }

    /// The next message, if one arrives within `timeout`.
    pub fn next_mail(&self, timeout: Duration) -> Option<Mail> {
        self.received.recv_timeout(timeout).ok()
    }
}
