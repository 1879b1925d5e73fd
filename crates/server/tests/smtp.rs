//! Mail over SMTP: the server's real lettre transport talking to an SMTP sink on loopback.
//!
//! The sink is written here (a few lines of RFC 5321: greeting, EHLO, MAIL, RCPT, DATA,
//! QUIT) rather than installed: no SMTP server package is on the test machines, and the
//! part under test is the server's client side, which runs unchanged.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use orgdesk_server::{NewOrg, RunningServer, Settings};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

const PASSWORD: &str = "correct horse battery staple";

/// One message as the sink received it.
#[derive(Debug, Clone)]
struct Received {
    from: String,
    to: Vec<String>,
    data: String,
}

#[derive(Clone, Default)]
struct Sink {
    received: Arc<Mutex<Vec<Received>>>,
}

impl Sink {
    /// Accepts SMTP sessions on `listener` until the test ends.
    fn serve(&self, listener: TcpListener) {
        let sink = self.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let sink = sink.clone();
                tokio::spawn(async move { sink.session(stream).await });
            }
        });
    }

    async fn session(&self, stream: TcpStream) -> std::io::Result<()> {
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read);
        write.write_all(b"220 sink.test ESMTP\r\n").await?;
        let mut message = Received {
            from: String::new(),
            to: Vec::new(),
            data: String::new(),
        };
        let mut line = String::new();
        loop {
            line.clear();
            if lines.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let command = line.trim_end().to_ascii_uppercase();
            let reply: &[u8] = if command.starts_with("EHLO") {
                b"250-sink.test\r\n250 8BITMIME\r\n"
            } else if command.starts_with("MAIL FROM:") {
                message.from = line.trim_end()[10..].to_owned();
                b"250 OK\r\n"
            } else if command.starts_with("RCPT TO:") {
                message.to.push(line.trim_end()[8..].to_owned());
                b"250 OK\r\n"
            } else if command == "DATA" {
                write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" {
                        break;
                    }
                    message.data.push_str(&line);
                }
                let done = std::mem::replace(
                    &mut message,
                    Received {
                        from: String::new(),
                        to: Vec::new(),
                        data: String::new(),
                    },
                );
                self.received.lock().unwrap().push(done);
                b"250 OK: queued\r\n"
            } else if command == "QUIT" {
                write.write_all(b"221 Bye\r\n").await?;
                return Ok(());
            } else if command == "RSET" || command == "NOOP" {
                b"250 OK\r\n"
            } else {
                b"502 Command not implemented\r\n"
            };
            write.write_all(reply).await?;
        }
    }

    /// The messages received so far to `to`, waiting up to `patience` for the first.
    async fn to(&self, to: &str, patience: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            let found: Vec<Received> = self
                .received
                .lock()
                .unwrap()
                .iter()
                .filter(|m| m.to.iter().any(|r| r.contains(to)))
                .cloned()
                .collect();
            if !found.is_empty() || tokio::time::Instant::now() >= deadline {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn server_sending_to(port: u16, dir: &tempfile::TempDir) -> RunningServer {
    let mut settings = Settings::local(
        dir.path().join("orgdesk.db").display().to_string(),
        dir.path().join("mailbox"),
    );
    settings.mail.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
    orgdesk_server::start(settings)
        .await
        .expect("server starts")
}

/// Creates an org, signs its admin in, and invites `invitee`; returns the admin's token.
async fn invite(server: &RunningServer, invitee: &str) {
    let created = server
        .create_org(NewOrg {
            name: "Mailers".into(),
            admin_email: "admin@mailers.example".into(),
            partner: false,
            admin_password: Some(PASSWORD.into()),
        })
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let login: Value = http
        .post(format!("{}/api/v1/auth/login", server.base_url()))
        .json(&json!({"email": "admin@mailers.example", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap();
    let answer = http
        .post(format!(
            "{}/api/v1/orgs/{}/members",
            server.base_url(),
            created.org_id
        ))
        .bearer_auth(token)
        .json(&json!({"email": invitee, "role": "member"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), reqwest::StatusCode::CREATED);
}

#[tokio::test]
async fn an_invitation_is_sent_over_smtp_with_its_link() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let sink = Sink::default();
    sink.serve(listener);
    let dir = tempfile::tempdir().unwrap();
    let server = server_sending_to(port, &dir).await;

    invite(&server, "new.hire@mailers.example").await;

    let mails = sink
        .to("new.hire@mailers.example", Duration::from_secs(20))
        .await;
    assert_eq!(mails.len(), 1, "one invitation: {mails:?}");
    let mail = &mails[0];
    assert!(mail.from.contains('@'), "{mail:?}");
    assert!(mail.data.contains("Subject:"), "{}", mail.data);
    // The body may be quoted-printable over SMTP: undo its soft line breaks before looking
    // for the link.
    let body = mail.data.replace("=\r\n", "");
    assert!(
        body.contains(&format!("{}/invite/", server.base_url())),
        "the invitation links to this server: {body}"
    );
    // Nothing went to the mailbox directory instead.
    assert!(
        !dir.path().join("mailbox").exists()
            || std::fs::read_dir(dir.path().join("mailbox"))
                .unwrap()
                .next()
                .is_none()
    );
}

#[tokio::test]
async fn mail_queued_while_the_smtp_server_is_down_is_sent_once_it_is_back() {
    // Reserve a port, then close it: the server's first attempts are refused.
    let port = {
        let probe = TcpListener::bind("127.0.0.1:0").await.unwrap();
        probe.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let server = server_sending_to(port, &dir).await;
    invite(&server, "patient@mailers.example").await;
    // Let the mail task try (and fail) at least once.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let sink = Sink::default();
    sink.serve(TcpListener::bind(("127.0.0.1", port)).await.unwrap());
    let mails = sink
        .to("patient@mailers.example", Duration::from_secs(30))
        .await;
    assert_eq!(mails.len(), 1, "sent once the sink listens: {mails:?}");
    // And only once: the queue forgets what was sent.
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(
        sink.to("patient@mailers.example", Duration::ZERO)
            .await
            .len(),
        1
    );
}
