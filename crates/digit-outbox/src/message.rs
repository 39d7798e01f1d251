//! Outbox messages and [`enqueue`], which writes one in the caller's transaction.

use serde::Serialize;
use sqlx::{Postgres, Transaction};

use crate::OutboxError;

/// Kafka header carrying the idempotency key.
pub const KAFKA_IDEMPOTENCY_HEADER: &str = "idempotency-key";
/// HTTP header carrying the idempotency key.
pub const HTTP_IDEMPOTENCY_HEADER: &str = "Idempotency-Key";

/// Where a message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A Kafka record, sent with the platform producer (`acks=all`, idempotent).
    Kafka {
        /// Logical topic (the producer applies the central-instance prefix).
        topic: String,
        /// Record key (picks the partition), if any.
        key: Option<String>,
    },
    /// An HTTP request; any 2xx answer counts as delivered.
    Http {
        /// Method, e.g. `POST`.
        method: String,
        /// Absolute URL.
        url: String,
    },
}

/// One outbound message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    /// Unique per message; the receiver deduplicates on it. Defaults to a random UUID.
    pub idempotency_key: String,
    /// Kafka or HTTP.
    pub destination: Destination,
    /// Body bytes (JSON for the constructors below).
    pub payload: Vec<u8>,
    /// Extra headers (Kafka headers or HTTP headers). The idempotency header is added by the
    /// relay; for HTTP JSON bodies the relay also sets `Content-Type: application/json`
    /// unless a header here sets it.
    pub headers: Vec<(String, String)>,
    /// The writing service (empty by default); a relay made with [`crate::Relay::for_source`]
    /// delivers only its own service's rows.
    pub source: String,
}

impl OutboxMessage {
    /// A Kafka message with `value` serialised as JSON (explicit `null`s, like the producer).
    pub fn kafka_json<T: Serialize + ?Sized>(
        topic: impl Into<String>,
        key: Option<&str>,
        value: &T,
    ) -> Result<Self, OutboxError> {
        Ok(Self {
            idempotency_key: uuid::Uuid::new_v4().to_string(),
            destination: Destination::Kafka {
                topic: topic.into(),
                key: key.map(str::to_owned),
            },
            payload: serde_json::to_vec(value)?,
            headers: Vec::new(),
            source: String::new(),
        })
    }

    /// An HTTP request with `body` serialised as JSON.
    pub fn http_json<T: Serialize + ?Sized>(
        method: impl Into<String>,
        url: impl Into<String>,
        body: &T,
    ) -> Result<Self, OutboxError> {
        Ok(Self {
            idempotency_key: uuid::Uuid::new_v4().to_string(),
            destination: Destination::Http {
                method: method.into().to_ascii_uppercase(),
                url: url.into(),
            },
            payload: serde_json::to_vec(body)?,
            headers: vec![("Content-Type".into(), "application/json".into())],
            source: String::new(),
        })
    }

    /// Replaces the generated idempotency key with one derived from the business event
    /// (e.g. `"<ledger-entry-id>:allocated"`), so that enqueueing the same event twice is
    /// rejected by the unique key instead of sending it twice.
    pub fn with_idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = key.into();
        self
    }

    /// Marks the message as written by `source` (see [`crate::Relay::for_source`]).
    pub fn with_source(mut self, source: impl Into<String>) -> Self {
        self.source = source.into();
        self
    }

    /// Adds a header.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Adds the `x-correlation-id` header.
    pub fn with_correlation_id(self, id: &str) -> Self {
        self.with_header(digit_kafka::CORRELATION_ID_HEADER, id)
    }

    fn validate(&self) -> Result<(), OutboxError> {
        if self.idempotency_key.trim().is_empty() {
            return Err(OutboxError::Invalid("empty idempotency key".into()));
        }
        match &self.destination {
            Destination::Kafka { topic, .. } if topic.trim().is_empty() => {
                Err(OutboxError::Invalid("empty Kafka topic".into()))
            }
            Destination::Http { method, .. }
                if digit_http::Method::from_bytes(method.as_bytes()).is_err() =>
            {
                Err(OutboxError::Invalid(format!("bad HTTP method '{method}'")))
            }
            Destination::Http { url, .. } if digit_http::Url::parse(url).is_err() => {
                Err(OutboxError::Invalid(format!("bad URL '{url}'")))
            }
            _ => Ok(()),
        }
    }
}

/// Writes `message` into the outbox inside the caller's transaction and returns its row id.
///
/// Nothing is sent now: the relay delivers the row once the transaction committed, and a
/// rolled-back transaction leaves no trace. A duplicate idempotency key fails the insert
/// (a unique violation), which aborts the caller's transaction like any other failed
/// statement.
pub async fn enqueue(
    tx: &mut Transaction<'_, Postgres>,
    message: &OutboxMessage,
) -> Result<i64, OutboxError> {
    message.validate()?;
    let (kind, topic, key, method, url) = match &message.destination {
        Destination::Kafka { topic, key } => ("kafka", Some(topic), key.as_ref(), None, None),
        Destination::Http { method, url } => ("http", None, None, Some(method), Some(url)),
    };
    let headers = serde_json::to_value(&message.headers)?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO digit_outbox
            (idempotency_key, kind, topic, message_key, http_method, http_url, payload, headers,
             next_attempt_at, created_at, source)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10)
         RETURNING id",
    )
    .bind(&message.idempotency_key)
    .bind(kind)
    .bind(topic)
    .bind(key)
    .bind(method)
    .bind(url)
    .bind(&message.payload)
    .bind(headers)
    .bind(crate::now_ms())
    .bind(&message.source)
    .fetch_one(&mut **tx)
    .await?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_and_validation() {
        let m = OutboxMessage::kafka_json("t", Some("k"), &serde_json::json!({"a": null}))
            .unwrap()
            .with_correlation_id("c-1");
        assert_eq!(m.payload, br#"{"a":null}"#);
        assert_eq!(
            m.headers,
            [("x-correlation-id".to_owned(), "c-1".to_owned())]
        );
        assert!(m.validate().is_ok());
        assert_eq!(m.idempotency_key.len(), 36);

        let bad_topic = OutboxMessage::kafka_json(" ", None, &1).unwrap();
        assert!(matches!(bad_topic.validate(), Err(OutboxError::Invalid(_))));
        let bad_url = OutboxMessage::http_json("post", "not a url", &1).unwrap();
        assert!(matches!(bad_url.validate(), Err(OutboxError::Invalid(_))));
        let bad_key = OutboxMessage::http_json("post", "http://x/y", &1)
            .unwrap()
            .with_idempotency_key("");
        assert!(matches!(bad_key.validate(), Err(OutboxError::Invalid(_))));
        let ok = OutboxMessage::http_json("post", "http://x/y", &1).unwrap();
        assert_eq!(
            ok.destination,
            Destination::Http {
                method: "POST".into(),
                url: "http://x/y".into()
            }
        );
    }
}
