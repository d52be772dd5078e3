//! DNS rebinding defence for a gateway without authentication.
//!
//! Without sign-in the gateway listens on loopback only, but that alone does not keep other
//! sites out: a page whose domain re-resolves to 127.0.0.1 is, for the browser, same-origin
//! with the gateway, so it could read pages and send forms that pass the CSRF Origin check
//! (which compares Origin with the request's own Host). What gives it away is the `Host` it
//! sends: the attacker's name. So, without authentication, every request must name a loopback
//! host (`localhost`, `*.localhost`, a 127.0.0.0/8 address, `[::1]`, any port) or the address
//! the gateway listens on; anything else is refused with 421. With authentication on, the
//! gateway may be served under any name and this check is not installed (`routes::router`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use axum::extract::{Request, State};
use axum::http::header::{CONTENT_TYPE, HOST};
use axum::http::{StatusCode, Version};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The most of a refused Host the message repeats; it is the client's text, not ours.
const SHOWN_CHARS: usize = 100;

/// What the check knows besides the request: the address the gateway listens on.
#[derive(Debug, Clone, Copy)]
pub struct LoopbackHosts {
    pub listen: Option<SocketAddr>,
}

/// Middleware: lets through only requests that name a loopback host (see the module docs).
pub async fn require(State(hosts): State<LoopbackHosts>, request: Request, next: Next) -> Response {
    match refusal(&request, hosts.listen) {
        None => next.run(request).await,
        Some(why) => {
            let message = format!(
                "{why}. This speedrack has no sign-in, so it answers only to a loopback name \
                 (localhost, 127.0.0.1, [::1]), which other sites cannot take over. Open it as \
                 {}, or set web.auth (basic or proxy_header) to serve it under other names.\n",
                suggested_url(hosts.listen)
            );
            (
                StatusCode::MISDIRECTED_REQUEST,
                [(CONTENT_TYPE, "text/plain; charset=utf-8")],
                message,
            )
                .into_response()
        }
    }
}

/// Why `request` is refused, or `None` when every host it names is a loopback one.
fn refusal(request: &Request, listen: Option<SocketAddr>) -> Option<String> {
    let listen = listen.map(|address| address.ip());
    // A request in absolute form (`GET http://host/ HTTP/1.1`) names its host there too.
    let named = request
        .headers()
        .get_all(HOST)
        .iter()
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        .chain(
            request
                .uri()
                .authority()
                .map(|authority| authority.as_str().to_owned()),
        )
        .collect::<Vec<_>>();
    // HTTP/1.0 clients may leave Host out; browsers never do, so nothing is lost by it.
    if named.is_empty() && request.version() >= Version::HTTP_11 {
        return Some("the request has no Host header".to_owned());
    }
    named
        .iter()
        .find(|host| !is_loopback(host, listen))
        .map(|host| {
            let shown: String = host.chars().take(SHOWN_CHARS).collect();
            format!("Host {:?} was refused", shown)
        })
}

/// Whether `host` (a Host header's value: a name or address and an optional port) is a
/// loopback name, or the address `listen` (unless it is unspecified, which no client names).
fn is_loopback(host: &str, listen: Option<IpAddr>) -> bool {
    let Some(name) = without_port(host) else {
        return false;
    };
    let address = match name.strip_prefix('[') {
        Some(bracketed) => bracketed
            .strip_suffix(']')
            .and_then(|inner| inner.parse::<Ipv6Addr>().ok())
            .map(IpAddr::V6),
        None => name.parse::<Ipv4Addr>().ok().map(IpAddr::V4),
    };
    match address {
        Some(address) => {
            let address = address.to_canonical();
            address.is_loopback()
                || listen.is_some_and(|ip| !ip.is_unspecified() && ip.to_canonical() == address)
        }
        None => is_localhost_name(name),
    }
}

/// `host` without its `:port`, if the port (when there is one) is a port number.
fn without_port(host: &str) -> Option<&str> {
    // The port follows the last colon, except inside an IPv6 address's brackets.
    let port_colon = host
        .rfind(':')
        .filter(|&colon| !host[colon..].contains(']'));
    match port_colon {
        Some(colon) => {
            let port = &host[colon + 1..];
            let numeric = !port.is_empty() && port.bytes().all(|byte| byte.is_ascii_digit());
            (numeric && port.parse::<u16>().is_ok()).then(|| &host[..colon])
        }
        None => Some(host),
    }
}

/// `localhost` and its subdomains, which browsers resolve to loopback themselves (RFC 6761).
fn is_localhost_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    let well_formed = name
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.'));
    let under_localhost = name
        .strip_suffix(".localhost")
        .is_some_and(|labels| labels.split('.').all(|label| !label.is_empty()));
    well_formed && (name == "localhost" || under_localhost)
}

/// Where the user can reach this gateway by a name it answers to.
fn suggested_url(listen: Option<SocketAddr>) -> String {
    match listen {
        Some(address) if !address.ip().is_unspecified() => format!("http://{address}/"),
        Some(address) => format!("http://localhost:{}/", address.port()),
        None => "http://localhost/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::net::Ipv4Addr;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    use super::*;
    use crate::GatewayConfig;
    use crate::auth::Auth;

    #[test]
    fn loopback_names_and_addresses_are_recognised() {
        let listen = Some(IpAddr::from(Ipv4Addr::new(127, 0, 0, 1)));
        for host in [
            "localhost",
            "LocalHost:8118",
            "app.localhost",
            "a.b.localhost:1",
            "127.0.0.1",
            "127.0.0.1:18118",
            "127.8.9.10:80",
            "[::1]",
            "[::1]:18118",
            "[::ffff:127.0.0.1]:18118",
        ] {
            assert!(is_loopback(host, listen), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:18118",
            "localhost.evil.example",
            "127.0.0.1.evil.example",
            "evil-localhost",
            ".localhost",
            "a..localhost",
            "localhost:",
            "localhost:99999",
            "localhost:80:80",
            "localhost@evil.example",
            "0.0.0.0:18118",
            "[::]:18118",
            "::1",
            "[::2]",
            "10.0.0.1",
            "",
        ] {
            assert!(!is_loopback(host, listen), "{host}");
        }
        let wide = Some(IpAddr::from(Ipv4Addr::UNSPECIFIED));
        assert!(!is_loopback("0.0.0.0", wide), "no client names 0.0.0.0");
        let own = Some(IpAddr::from(Ipv4Addr::new(192, 0, 2, 7)));
        assert!(is_loopback("192.0.2.7:18118", own), "the listening address");
    }

    /// A gateway with `auth` on a loopback port, for a daemon that is not there.
    async fn gateway(auth: Auth) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("a loopback port");
        let address = listener.local_addr().expect("bound");
        let config = GatewayConfig {
            socket: std::path::PathBuf::from("/nonexistent/speedrack.sock"),
            auth,
            ..GatewayConfig::default()
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(crate::serve(config, listener, async move {
            let _ = stopped.await;
        }));
        (address, stop)
    }

    /// The whole answer to `request` (sent as is, over a connection of its own).
    async fn ask(address: SocketAddr, request: &str) -> String {
        let mut stream = TcpStream::connect(address).await.expect("connect");
        stream.write_all(request.as_bytes()).await.expect("send");
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.expect("answer");
        String::from_utf8_lossy(&answer).into_owned()
    }

    fn get(host: &str) -> String {
        format!("GET /favicon.ico HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")
    }

    #[tokio::test]
    async fn without_sign_in_only_loopback_hosts_are_served() {
        let (address, _stop) = gateway(Auth::None).await;
        let port = address.port();
        for host in [
            format!("127.0.0.1:{port}"),
            format!("localhost:{port}"),
            format!("app.localhost:{port}"),
            format!("[::1]:{port}"),
        ] {
            let answer = ask(address, &get(&host)).await;
            assert!(answer.starts_with("HTTP/1.1 200"), "{host}: {answer}");
        }

        let answer = ask(address, &get(&format!("evil.example:{port}"))).await;
        assert!(answer.starts_with("HTTP/1.1 421"), "{answer}");
        assert!(
            answer.contains(&format!("Host \"evil.example:{port}\" was refused"))
                && answer.contains("web.auth")
                && answer.contains(&format!("http://127.0.0.1:{port}/")),
            "the refusal says which Host and how to allow others: {answer}"
        );

        let form = format!(
            "POST /prefs/inactive HTTP/1.1\r\nHost: evil.example:{port}\r\n\
             Origin: http://evil.example:{port}\r\nSec-Fetch-Site: same-origin\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 6\r\n\
             Connection: close\r\n\r\nhide=1"
        );
        let answer = ask(address, &form).await;
        assert!(answer.starts_with("HTTP/1.1 421"), "{answer}");
        assert!(!answer.contains("Set-Cookie"), "{answer}");

        let absolute = format!(
            "GET http://evil.example/favicon.ico HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
             Connection: close\r\n\r\n"
        );
        let answer = ask(address, &absolute).await;
        assert!(answer.starts_with("HTTP/1.1 421"), "{answer}");

        let nameless = "GET /favicon.ico HTTP/1.1\r\nConnection: close\r\n\r\n";
        let answer = ask(address, nameless).await;
        assert!(answer.starts_with("HTTP/1.1 421"), "{answer}");
        assert!(answer.contains("no Host header"), "{answer}");
    }

    #[tokio::test]
    async fn with_sign_in_any_host_is_asked_to_sign_in() {
        let auth = Auth::Basic {
            realm: "speedrack".to_owned(),
            users: HashMap::new(),
        };
        let (address, _stop) = gateway(auth).await;
        let answer = ask(address, &get("cron.example")).await;
        assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    }
}
