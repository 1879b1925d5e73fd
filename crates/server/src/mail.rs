//! Outgoing mail. Messages are queued in the `mail_outbox` table inside the transaction
//! that causes them (so a rolled-back change sends nothing and a crash loses nothing) and
//! delivered by a background task: over SMTP, or as one `.eml` file per message in a
//! mailbox directory (demo and tests), named so that they sort by time.

use crate::error::{Error, Result};
use crate::settings::MailSettings;
use crate::store::{Store, Tx, int, text};
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox, Message};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::sync::Arc;
use tokio::sync::Notify;

pub async fn enqueue(tx: &mut Tx, to: &str, subject: &str, body: &str, now_ms: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO mail_outbox (recipient, subject, body, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(to)
    .bind(subject)
    .bind(body)
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A message held back to be queued with others of its transaction in one statement.
#[derive(Debug, Clone)]
pub struct MailRow {
    pub to: String,
    pub subject: String,
    pub body: String,
    pub at: i64,
}

/// Queues messages in their order, a few hundred per statement.
pub async fn enqueue_all(tx: &mut Tx, rows: &[MailRow]) -> Result<()> {
    for chunk in rows.chunks(crate::store::MULTI_ROW_CHUNK) {
        let mut q = crate::sql::Query::many(tx);
        let mut values = Vec::with_capacity(chunk.len());
        for row in chunk {
            values.push(format!(
                "({}, {}, {}, {})",
                q.text(row.to.as_str()),
                q.text(row.subject.as_str()),
                q.text(row.body.as_str()),
                q.int(row.at)
            ));
        }
        q.push(&format!(
            "INSERT INTO mail_outbox (recipient, subject, body, created_at) VALUES {}",
            values.join(", ")
        ));
        q.build().execute(&mut **tx).await?;
    }
    Ok(())
}

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Mailbox(std::path::PathBuf),
}

/// Delivers the outbox whenever it is woken (after a commit that queued mail) and every
/// few seconds.
pub struct MailWorker {
    pub wake: Arc<Notify>,
}

impl MailWorker {
    pub fn spawn(
        store: Store,
        settings: &MailSettings,
        mut stop: crate::Stop,
    ) -> Result<MailWorker> {
        let (transport, from) = transport(settings)?;
        let wake = Arc::new(Notify::new());
        let worker_wake = wake.clone();
        tokio::spawn(async move {
            let mut counter: u64 = 0;
            loop {
                match deliver(&store, &transport, &from, &mut counter).await {
                    Ok(true) => continue,
                    Ok(false) => {}
                    Err(error) => tracing::warn!(%error, "mail delivery failed; will retry"),
                }
                tokio::select! {
                    _ = worker_wake.notified() => {}
                    _ = stop.wait_for(|stopped| *stopped) => break,
                    _ = tokio::time::sleep(std::time::Duration::from_secs(5)) => {}
                }
            }
        });
        Ok(MailWorker { wake })
    }
}

fn transport(settings: &MailSettings) -> Result<(Transport, Mailbox)> {
    let transport = match &settings.smtp_url {
        Some(url) => Transport::Smtp(
            AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                .map_err(|e| Error::internal(format!("SMTP URL: {e}")))?
                .build(),
        ),
        None => {
            std::fs::create_dir_all(&settings.mailbox_dir).map_err(|e| {
                Error::internal(format!("mailbox {}: {e}", settings.mailbox_dir.display()))
            })?;
            Transport::Mailbox(settings.mailbox_dir.clone())
        }
    };
    let from: Mailbox = settings
        .from
        .parse()
        .map_err(|e| Error::internal(format!("mail from '{}': {e}", settings.from)))?;
    Ok((transport, from))
}

/// Delivers everything queued, now (the CLI, which exits right after).
pub async fn deliver_all(store: &Store, settings: &MailSettings) -> Result<()> {
    let (transport, from) = transport(settings)?;
    let mut counter = 0;
    while deliver(store, &transport, &from, &mut counter).await? {}
    Ok(())
}

/// Sends up to a batch of queued messages; `true` when there may be more.
async fn deliver(
    store: &Store,
    transport: &Transport,
    from: &Mailbox,
    counter: &mut u64,
) -> Result<bool> {
    let rows = sqlx::query(
        "SELECT id, recipient, subject, body, created_at FROM mail_outbox ORDER BY id LIMIT 500",
    )
    .fetch_all(&store.pool)
    .await?;
    let more = rows.len() == 500;
    let mut failure = None;
    // The messages handled, in order, and whether each is a mailbox file still to write.
    let mut handled: Vec<(i64, bool)> = Vec::with_capacity(rows.len());
    // Mailbox files are written together in one blocking task: a task (two thread hops)
    // per file cost more than the writing when thousands of invitations go out at once.
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for row in rows {
        let id = int(&row, "id")?;
        let to = text(&row, "recipient")?;
        let sent = match to.parse::<Mailbox>() {
            Ok(recipient) => {
                let message = Message::builder()
                    .from(from.clone())
                    .to(recipient)
                    .subject(text(&row, "subject")?)
                    .header(ContentType::TEXT_PLAIN)
                    // In the mailbox directory the body stays as written (links on one
                    // line, no quoted-printable soft breaks) for people and tests reading
                    // it; over SMTP lettre picks a transport-safe encoding.
                    .body(match transport {
                        Transport::Mailbox(_) => Body::new_with_encoding(
                            text(&row, "body")?,
                            ContentTransferEncoding::Binary,
                        )
                        .map_err(|_| Error::internal("mail body not encodable"))?,
                        Transport::Smtp(_) => Body::new(text(&row, "body")?),
                    })
                    .map_err(|e| Error::internal(format!("mail: {e}")))?;
                match transport {
                    Transport::Smtp(smtp) => smtp
                        .send(message)
                        .await
                        .map(|_| false)
                        .map_err(|e| Error::internal(format!("SMTP: {e}"))),
                    Transport::Mailbox(_) => {
                        *counter += 1;
                        let name = format!(
                            "{:013}-{:010}-{:06}.eml",
                            int(&row, "created_at")?,
                            id,
                            *counter % 1_000_000
                        );
                        files.push((name, message.formatted()));
                        Ok(true)
                    }
                }
            }
            Err(error) => {
                tracing::warn!(%error, "dropping mail to an unparseable address");
                Ok(false)
            }
        };
        match sent {
            Ok(is_file) => handled.push((id, is_file)),
            Err(error) => {
                failure = Some(error);
                break;
            }
        }
    }
    let mut written = usize::MAX;
    if let Transport::Mailbox(dir) = transport
        && !files.is_empty()
    {
        let dir = dir.clone();
        let (count, error) = tokio::task::spawn_blocking(move || {
            for (count, (name, bytes)) in files.into_iter().enumerate() {
                if let Err(e) = std::fs::write(dir.join(name), bytes) {
                    return (count, Some(Error::internal(format!("mailbox: {e}"))));
                }
            }
            (usize::MAX, None)
        })
        .await
        .map_err(|e| Error::internal(format!("mailbox: {e}")))?;
        written = count;
        if error.is_some() {
            failure = error;
        }
    }
    // Sent messages leave the outbox in one statement per batch (a write per message would
    // compete with the changes for SQLite's write lock): every one before the first
    // failure.
    let mut files_seen = 0;
    let mut last_sent = None;
    for (id, is_file) in &handled {
        if *is_file {
            if files_seen >= written {
                break;
            }
            files_seen += 1;
        }
        last_sent = Some(*id);
    }
    if let (Some((first, _)), Some(last)) = (handled.first(), last_sent) {
        sqlx::query("DELETE FROM mail_outbox WHERE id >= $1 AND id <= $2")
            .bind(*first)
            .bind(last)
            .execute(&store.pool)
            .await?;
    }
    match failure {
        Some(error) => Err(error),
        None => Ok(more),
    }
}
