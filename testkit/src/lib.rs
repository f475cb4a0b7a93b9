//! # ai-testkit
//!
//! A small HTTP/1.1 server for tests and benchmarks that answers from a handler and can
//! misbehave on purpose: delay headers, drip a body chunk by chunk, stop in the middle of a
//! stream, reset the connection, or never finish. Requests are recorded for assertions.
//! Keep-alive is supported, so it can also serve a benchmark at high request rates.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A request as the mock received it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// `GET`, `POST`…
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Bytes,
}

impl RecordedRequest {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as UTF-8 text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// How the response ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Properly.
    Complete,
    /// Close the connection without finishing the body (a server that stops mid-stream).
    Close,
    /// Reset the connection (TCP RST) after what was written.
    Reset,
    /// Keep the connection open and send nothing more.
    Hang,
}

/// A scripted response.
#[derive(Debug, Clone)]
pub struct MockResponse {
    /// Status code.
    pub status: u16,
    /// Headers (content-length / transfer-encoding are added automatically).
    pub headers: Vec<(String, String)>,
    /// Body parts, each written after its delay. One part with no delay is sent with a
    /// `Content-Length`; otherwise the body is chunked.
    pub parts: Vec<(Duration, Bytes)>,
    /// Delay before the status line.
    pub header_delay: Duration,
    /// How the response ends.
    pub ending: Ending,
    /// Send nothing at all and reset (for "connection reset" faults).
    pub reset_before_headers: bool,
}

impl MockResponse {
    /// A complete response with a body.
    pub fn new(status: u16, body: impl Into<Bytes>) -> Self {
        Self {
            status,
            headers: Vec::new(),
            parts: vec![(Duration::ZERO, body.into())],
            header_delay: Duration::ZERO,
            ending: Ending::Complete,
            reset_before_headers: false,
        }
    }

    /// A JSON response.
    pub fn json(status: u16, body: impl Into<Bytes>) -> Self {
        Self::new(status, body).header("content-type", "application/json")
    }

    /// An SSE response whose body is sent in `parts` (chunked).
    pub fn sse(parts: Vec<Bytes>) -> Self {
        Self {
            parts: parts.into_iter().map(|p| (Duration::ZERO, p)).collect(),
            ..Self::new(200, Bytes::new())
        }
        .header("content-type", "text/event-stream")
        .chunked()
    }

    /// Reset the connection as soon as the request is read.
    pub fn reset() -> Self {
        Self {
            reset_before_headers: true,
            ..Self::new(500, Bytes::new())
        }
    }

    /// Add a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Wait before sending anything.
    pub fn delay(mut self, d: Duration) -> Self {
        self.header_delay = d;
        self
    }

    /// Wait `d` before each body part.
    pub fn drip(mut self, d: Duration) -> Self {
        for p in &mut self.parts {
            p.0 = d;
        }
        self
    }

    /// End the response this way.
    pub fn ending(mut self, e: Ending) -> Self {
        self.ending = e;
        self
    }

    /// Force chunked transfer encoding even for one part.
    pub fn chunked(mut self) -> Self {
        if self.parts.len() == 1 && self.parts[0].0.is_zero() {
            self.parts.push((Duration::ZERO, Bytes::new()));
        }
        self
    }
}

type Handler = dyn Fn(&RecordedRequest) -> MockResponse + Send + Sync;

/// A running mock server on 127.0.0.1. Stops when dropped.
pub struct MockServer {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl MockServer {
    /// Start serving `handler` on a free port.
    pub async fn start(
        handler: impl Fn(&RecordedRequest) -> MockResponse + Send + Sync + 'static,
    ) -> std::io::Result<Self> {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), handler, true).await
    }

    /// Start on `addr`; `record` keeps every request (turn off for benchmarks).
    pub async fn start_on(
        addr: SocketAddr,
        handler: impl Fn(&RecordedRequest) -> MockResponse + Send + Sync + 'static,
        record: bool,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let recorded = requests.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    continue;
                };
                let _ = socket.set_nodelay(true);
                let handler = handler.clone();
                let recorded = recorded.clone();
                tokio::spawn(async move {
                    let _ = serve(socket, handler, recorded, record).await;
                });
            }
        });
        Ok(Self {
            addr,
            requests,
            task,
        })
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Requests received so far.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.requests.lock().clone()
    }
}

async fn read_request(
    socket: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> std::io::Result<Option<RecordedRequest>> {
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut req = httparse::Request::new(&mut headers);
        let parsed = req
            .parse(buf)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        if let httparse::Status::Complete(head_len) = parsed {
            let headers: Vec<(String, String)> = req
                .headers
                .iter()
                .map(|h| {
                    (
                        h.name.to_ascii_lowercase(),
                        String::from_utf8_lossy(h.value).into_owned(),
                    )
                })
                .collect();
            let method = req.method.unwrap_or("GET").to_string();
            let path = req.path.unwrap_or("/").to_string();
            let len: usize = headers
                .iter()
                .find(|(k, _)| k == "content-length")
                .and_then(|(_, v)| v.trim().parse().ok())
                .unwrap_or(0);
            while buf.len() < head_len + len {
                let mut chunk = [0u8; 16 * 1024];
                let n = socket.read(&mut chunk).await?;
                if n == 0 {
                    return Ok(None);
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let body = Bytes::copy_from_slice(&buf[head_len..head_len + len]);
            buf.drain(..head_len + len);
            return Ok(Some(RecordedRequest {
                method,
                path,
                headers,
                body,
            }));
        }
        let mut chunk = [0u8; 16 * 1024];
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Payload Too Large",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

async fn serve(
    mut socket: TcpStream,
    handler: Arc<Handler>,
    recorded: Arc<Mutex<Vec<RecordedRequest>>>,
    record: bool,
) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(8 * 1024);
    while let Some(request) = read_request(&mut socket, &mut buf).await? {
        let response = handler(&request);
        if record {
            recorded.lock().push(request);
        }
        if response.reset_before_headers {
            return reset(socket);
        }
        if !response.header_delay.is_zero() {
            tokio::time::sleep(response.header_delay).await;
        }
        let single = response.parts.len() == 1 && response.parts[0].0.is_zero();
        let mut head = format!(
            "HTTP/1.1 {} {}\r\n",
            response.status,
            reason(response.status)
        );
        for (k, v) in &response.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        if single {
            head.push_str(&format!(
                "content-length: {}\r\n\r\n",
                response.parts[0].1.len()
            ));
            let mut out = head.into_bytes();
            out.extend_from_slice(&response.parts[0].1);
            socket.write_all(&out).await?;
        } else {
            head.push_str("transfer-encoding: chunked\r\n\r\n");
            socket.write_all(head.as_bytes()).await?;
            for (delay, part) in &response.parts {
                if !delay.is_zero() {
                    tokio::time::sleep(*delay).await;
                }
                if part.is_empty() {
                    continue;
                }
                let mut frame = format!("{:x}\r\n", part.len()).into_bytes();
                frame.extend_from_slice(part);
                frame.extend_from_slice(b"\r\n");
                socket.write_all(&frame).await?;
            }
            match response.ending {
                Ending::Complete => socket.write_all(b"0\r\n\r\n").await?,
                Ending::Close => {
                    socket.shutdown().await?;
                    return Ok(());
                }
                Ending::Reset => return reset(socket),
                Ending::Hang => {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    return Ok(());
                }
            }
        }
        match response.ending {
            Ending::Complete => {}
            Ending::Close => return Ok(()),
            Ending::Reset => return reset(socket),
            Ending::Hang => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                return Ok(());
            }
        }
    }
    Ok(())
}

/// Drop the socket with SO_LINGER 0 so the peer sees a reset rather than a clean close.
fn reset(socket: TcpStream) -> std::io::Result<()> {
    let std = socket.into_std()?;
    let sock = socket2::SockRef::from(&std);
    sock.set_linger(Some(Duration::ZERO))?;
    drop(std);
    Ok(())
}

/// Split `data` into pieces at the given cut points (sorted, deduplicated, in range).
pub fn split_at(data: &[u8], cuts: &[usize]) -> Vec<Bytes> {
    let mut cuts: Vec<usize> = cuts
        .iter()
        .copied()
        .filter(|c| *c > 0 && *c < data.len())
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut out = Vec::with_capacity(cuts.len() + 1);
    let mut start = 0;
    for c in cuts {
        out.push(Bytes::copy_from_slice(&data[start..c]));
        start = c;
    }
    out.push(Bytes::copy_from_slice(&data[start..]));
    out
}
