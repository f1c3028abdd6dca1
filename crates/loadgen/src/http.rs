//! A minimal HTTP/1.1 client for the server's JSON API, loopback only.
//!
//! Keep-alive connections, `Content-Length` or chunked bodies: enough for
//! `POST /api/sync/sessions` and `GET /api/history` without a client crate.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use anyhow::{Context, bail};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Largest response body read, in bytes (a ten-year history is a few MB).
const MAX_BODY: usize = 256 * 1024 * 1024;

/// The socket address of a loopback base URL such as `http://127.0.0.1:7878/`.
/// Anything that is not loopback is refused: the load tool sends traffic
/// only to this machine.
pub fn loopback_addr(url: &str) -> anyhow::Result<SocketAddr> {
    let rest = url.strip_prefix("http://").with_context(|| {
        format!("`{url}` is not an http:// URL; give e.g. http://127.0.0.1:7878")
    })?;
    let authority = rest.split('/').next().unwrap_or_default();
    let addr: SocketAddr = match authority.strip_prefix("localhost:") {
        Some(port) => SocketAddr::new(
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            port.parse()
                .with_context(|| format!("bad port `{port}` in `{url}`"))?,
        ),
        None => authority.parse().with_context(|| {
            format!("`{authority}` in `{url}` is not IP:PORT; give e.g. http://127.0.0.1:7878")
        })?,
    };
    if !addr.ip().is_loopback() {
        bail!(
            "{addr} is not a loopback address: rollcoach-load only sends traffic to this machine"
        );
    }
    Ok(addr)
}

/// The token of a URL's `?token=...` (the link `rollcoach serve` prints on
/// loopback), sent as `Authorization: Bearer`.
pub fn url_token(url: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "token")
        .map(|(_, v)| v.to_owned())
}

/// A response: status and body.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// The body as text.
    pub body: String,
}

/// One keep-alive connection.
pub struct Conn {
    stream: BufReader<TcpStream>,
    addr: SocketAddr,
    /// The server's token, sent as `Authorization: Bearer` (it refuses
    /// requests without one).
    token: Option<String>,
}

impl Conn {
    /// Connects to a loopback address; every request carries `token` (the
    /// one in the link the server printed) if given.
    pub async fn connect(addr: SocketAddr, token: Option<&str>) -> anyhow::Result<Conn> {
        if !addr.ip().is_loopback() {
            bail!("{addr} is not a loopback address");
        }
        let tcp = TcpStream::connect(addr)
            .await
            .with_context(|| format!("cannot connect to {addr}"))?;
        tcp.set_nodelay(true)?;
        Ok(Conn {
            stream: BufReader::new(tcp),
            addr,
            token: token.map(str::to_owned),
        })
    }

    /// Sends one request and reads its response.
    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        json_body: Option<&str>,
    ) -> anyhow::Result<Response> {
        let body = json_body.unwrap_or("");
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAccept: application/json\r\n",
            self.addr
        );
        if json_body.is_some() {
            req.push_str("Content-Type: application/json\r\n");
        }
        if let Some(token) = &self.token {
            req.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        self.stream
            .get_mut()
            .write_all(req.as_bytes())
            .await
            .with_context(|| format!("{method} {path}: cannot send"))?;
        read_response(&mut self.stream)
            .await
            .with_context(|| format!("{method} {path}: bad response"))
    }
}

/// Reads one response (status line, headers, body) from `r`.
pub async fn read_response<R: AsyncBufRead + Unpin>(r: &mut R) -> anyhow::Result<Response> {
    let mut line = String::new();
    if r.read_line(&mut line).await? == 0 {
        bail!("the server closed the connection");
    }
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("not an HTTP status line: {:?}", line.trim_end()))?;
    let (mut length, mut chunked) = (None, false);
    loop {
        line.clear();
        if r.read_line(&mut line).await? == 0 {
            bail!("the connection closed inside the headers");
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(
                    value
                        .parse::<usize>()
                        .with_context(|| format!("bad Content-Length `{value}`"))?,
                );
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.eq_ignore_ascii_case("chunked");
            }
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            line.clear();
            r.read_line(&mut line).await?;
            let size_text = line.trim_end().split(';').next().unwrap_or_default();
            let size = usize::from_str_radix(size_text, 16)
                .with_context(|| format!("bad chunk size {size_text:?}"))?;
            if body.len() + size > MAX_BODY {
                bail!("response body over {MAX_BODY} bytes");
            }
            let start = body.len();
            body.resize(start + size, 0);
            r.read_exact(&mut body[start..]).await?;
            line.clear();
            r.read_line(&mut line).await?; // the CRLF after the chunk (or the trailer end)
            if size == 0 {
                break;
            }
        }
    } else if let Some(n) = length {
        if n > MAX_BODY {
            bail!("response body of {n} bytes is over {MAX_BODY}");
        }
        body.resize(n, 0);
        r.read_exact(&mut body).await?;
    } else {
        r.take(MAX_BODY as u64).read_to_end(&mut body).await?;
    }
    let body = String::from_utf8(body).context("the body is not UTF-8")?;
    Ok(Response { status, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(raw: &str) -> anyhow::Result<Response> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async { read_response(&mut raw.as_bytes()).await })
    }

    #[test]
    fn a_response_with_content_length_is_read_up_to_its_length() {
        let raw = "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: 9\r\n\r\n{\"id\":7}\nHTTP/1.1";
        assert_eq!(
            read(raw).unwrap(),
            Response {
                status: 201,
                body: "{\"id\":7}\n".into()
            }
        );
    }

    #[test]
    fn a_chunked_response_is_joined() {
        let raw = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n9;x=1\r\n:[1,2,3]}\r\n0\r\n\r\n";
        assert_eq!(read(raw).unwrap().body, "{\"a\":[1,2,3]}");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(read("").is_err());
        assert!(read("hello\r\n\r\n").is_err());
        assert!(read("HTTP/1.1 200 OK\r\ncontent-length: x\r\n\r\n").is_err());
        assert!(read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").is_err());
        assert!(read("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort").is_err());
    }

    #[test]
    fn only_loopback_urls_are_accepted() {
        assert_eq!(
            loopback_addr("http://127.0.0.1:7878/").unwrap(),
            "127.0.0.1:7878".parse().unwrap()
        );
        assert_eq!(
            loopback_addr("http://localhost:9/x").unwrap(),
            "127.0.0.1:9".parse().unwrap()
        );
        assert!(loopback_addr("http://[::1]:80").is_ok());
        assert_eq!(
            loopback_addr("http://127.0.0.1:7878/?token=abc").unwrap(),
            "127.0.0.1:7878".parse().unwrap()
        );
        assert_eq!(
            url_token("http://127.0.0.1:7878/?token=abc").as_deref(),
            Some("abc")
        );
        assert_eq!(url_token("http://127.0.0.1:7878/"), None);
        let err = loopback_addr("http://192.168.1.5:7878")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a loopback address"), "{err}");
        assert!(loopback_addr("https://127.0.0.1:1").is_err());
        assert!(loopback_addr("http://example.com:80").is_err());
    }
}
