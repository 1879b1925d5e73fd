//! A small builder for the few queries whose filters vary (roster, audit log, feed): the
//! text is assembled from fixed fragments only, every value is a bound `$n` parameter.

use crate::store::Backend;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{Any, AssertSqlSafe};

#[derive(Debug, Clone)]
pub enum Arg {
    Int(i64),
    Text(String),
    OptInt(Option<i64>),
    OptText(Option<String>),
}

#[derive(Debug, Default)]
pub struct Query {
    pub text: String,
    args: Vec<Arg>,
    /// `?` placeholders instead of `$n`: each placeholder then stands once, in the order of
    /// its binding.
    anonymous: bool,
}

impl Query {
    pub fn new(text: &str) -> Query {
        Query {
            text: text.to_owned(),
            args: Vec::new(),
            anonymous: false,
        }
    }

    /// A query for statements with many values (multi-row inserts, long `IN` lists), on
    /// the connection it will run on. SQLite's `$n` parameters are named: sqlx finds each
    /// one's number by name, and SQLite looks a name up in a list, so binding n of them
    /// costs n² (half the CPU of a 500-row insert); anonymous `?` parameters cost nothing.
    pub fn many(conn: &sqlx::AnyConnection) -> Query {
        Query {
            anonymous: conn.backend_name().eq_ignore_ascii_case("sqlite"),
            ..Query::new("")
        }
    }

    /// Whether this is a [`Query::many`] on SQLite (whose planner wants `IN (...)` lists,
    /// where PostgreSQL wants a join with a `VALUES` list).
    pub fn on_sqlite(&self) -> bool {
        self.anonymous
    }

    /// Binds a value and returns its placeholder.
    pub fn bind(&mut self, arg: Arg) -> String {
        self.args.push(arg);
        if self.anonymous {
            "?".to_owned()
        } else {
            format!("${}", self.args.len())
        }
    }

    pub fn int(&mut self, value: i64) -> String {
        self.bind(Arg::Int(value))
    }

    pub fn text(&mut self, value: impl Into<String>) -> String {
        self.bind(Arg::Text(value.into()))
    }

    pub fn opt_int(&mut self, value: Option<i64>) -> String {
        self.bind(Arg::OptInt(value))
    }

    pub fn opt_text(&mut self, value: Option<String>) -> String {
        self.bind(Arg::OptText(value))
    }

    pub fn push(&mut self, fragment: &str) {
        self.text.push_str(fragment);
    }

    pub fn build(self) -> sqlx::query::Query<'static, Any, AnyArguments> {
        let mut query = sqlx::query(AssertSqlSafe(self.text));
        for arg in self.args {
            query = match arg {
                Arg::Int(value) => query.bind(value),
                Arg::Text(value) => query.bind(value),
                Arg::OptInt(value) => query.bind(value),
                Arg::OptText(value) => query.bind(value),
            };
        }
        query
    }

    pub async fn fetch_all<'e, E>(self, executor: E) -> crate::error::Result<Vec<AnyRow>>
    where
        E: sqlx::Executor<'e, Database = Any>,
    {
        Ok(self.build().fetch_all(executor).await?)
    }
}

/// Restricts rows (by the given id, email and domain columns) to what a scoped actor may see
/// (SPEC.md §5): the actor themselves and the scope's addresses and domains.
pub fn scope_filter(
    query: &mut Query,
    actor: &orgdesk_domain::Actor,
    id: &str,
    email: &str,
    domain: &str,
) -> String {
    let Some(scope) = &actor.scope else {
        return "1 = 1".to_owned();
    };
    let mut emails = Vec::new();
    let mut domains = Vec::new();
    for entry in &scope.entries {
        match entry {
            orgdesk_domain::ScopeEntry::Email(address) => {
                emails.push(query.text(address.to_lowercase()))
            }
            orgdesk_domain::ScopeEntry::Domain(at) => domains.push(query.text(at.to_lowercase())),
        }
    }
    let me = query.int(actor.account_id);
    let mut clause = format!("({id} = {me}");
    if !emails.is_empty() {
        clause.push_str(&format!(" OR {email} IN ({})", emails.join(", ")));
    }
    if !domains.is_empty() {
        clause.push_str(&format!(" OR {domain} IN ({})", domains.join(", ")));
    }
    clause.push(')');
    clause
}

/// `%term%` for `LIKE ... ESCAPE '\'`, lower-cased.
pub fn like_pattern(term: &str) -> String {
    let mut pattern = String::from("%");
    for c in term.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// A query of one text value: the rows of `inner` (whose result columns include `columns`)
/// as a JSON array of arrays, in no particular order (the caller sorts: an ordered
/// aggregate sorted the rows a second time, a tenth of a 10,000-row page's time on SQLite).
///
/// A feed page of a large org is read this way because one value instead of a row per member
/// spares the driver's per-row work (on SQLite a hand-off between threads and a copy of every
/// value; through `Any`, another conversion of each), which was most of a snapshot's time.
/// The two backends spell the same aggregate differently; both keep JSON numbers as integers.
pub fn json_rows(backend: Backend, columns: &[&str], inner: &str) -> String {
    let (aggregate, array) = match backend {
        Backend::Sqlite => ("json_group_array", "json_array"),
        Backend::Postgres => ("json_agg", "json_build_array"),
    };
    format!(
        "SELECT CAST({aggregate}({array}({})) AS TEXT) AS page FROM ({inner}) AS page_rows",
        columns.join(", ")
    )
}

/// The result names of a column list such as `m.account_id, a.email`: `account_id`, `email`.
pub fn result_names(columns: &str) -> Vec<&str> {
    columns
        .split(',')
        .map(|column| column.trim().rsplit('.').next().unwrap_or_default())
        .collect()
}
