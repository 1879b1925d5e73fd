//! PostgreSQL for tests: the server named by `ORGDESK_TEST_POSTGRES_URL` (scripts/test
//! starts a private one) and a fresh database per test, dropped with it. The server's
//! tests and the client's (which include this file by path) share it.

/// The PostgreSQL server for tests, or `None` (skip) when it is not configured outside CI.
pub fn postgres_url() -> Option<String> {
    match std::env::var("ORGDESK_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!(
                "ORGDESK_TEST_POSTGRES_URL is not set: CI must run the PostgreSQL variants (scripts/test sets it)"
            )
        }
        _ => {
            eprintln!(
                "note: ORGDESK_TEST_POSTGRES_URL is not set; skipping the PostgreSQL variant (run scripts/test)"
            );
            None
        }
    }
}

/// A fresh, empty database on the test PostgreSQL server, dropped when this is.
#[derive(Debug)]
pub struct TestDatabase {
    /// The database's own URL, for the server under test.
    pub url: String,
    server: String,
    name: String,
}

impl TestDatabase {
    pub async fn create(server: &str) -> TestDatabase {
        use sqlx::Connection;
        let name = format!("orgdesk_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(server)
            .await
            .expect("connect to the test PostgreSQL");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create a test database");
        let base = server
            .rsplit_once('/')
            .map(|(base, _)| base)
            .unwrap_or(server);
        TestDatabase {
            url: format!("{base}/{name}"),
            server: server.to_owned(),
            name,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (server, name) = (self.server.clone(), self.name.clone());
        // Drop runs inside the test's runtime: use a thread with its own.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                use sqlx::Connection;
                if let Ok(mut conn) = sqlx::PgConnection::connect(&server).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut conn)
                    .await;
                }
            });
        })
        .join();
    }
}
