//! The write endpoints' entry (sync by default) and upstream's optional asynchronous intake
//! (spec §1.1 `is.*.async`, §1.14).
//!
//! [`ProgramService::write`] is what every create/update/reply endpoint calls: it parses the
//! body and runs the pipeline — unless the aggregate is configured asynchronous
//! (`IS_PROGRAM_ASYNC`, `IS_SANCTION_ASYNC`, `IS_ALLOCATION_ASYNC`, `IS_DISBURSE_ASYNC`,
//! all `false` by default). Then, after bean validation, the header checks and
//! authorization, the missing ids (entity, parent envelope, children) are assigned in the
//! message, the envelope is published to the aggregate's topic (`program-kafka-topic`, …,
//! keyed by the entity id, acknowledged by the broker) and the answer is that envelope —
//! so unlike upstream (§5 item 9) an async caller gets the ids its records will have.
//! [`IntakeConsumer`] consumes those topics (group `PROGRAM_KAFKA_GROUP_ID`) and runs the
//! same pipelines; a redelivery is answered by the inbox and changes nothing, a failure of
//! the database or a dependency is retried, and a message that cannot be processed at all
//! goes to `ERROR_KAFKA_TOPIC` (upstream's `error-queue`) in the ErrorQueueContract shape.

use crate::api::envelope::{parse_write, Body};
use crate::domain::model::{Action, Allocation, Disbursement, MessageType, Program, Sanction};
use crate::error::ProgramError;
use crate::service::{new_id, Caller, ProgramService};
use digit_kafka::{HandlerError, InboundMessage, MessageHandler, Producer};
use digit_service::config::{Env, EnvVar};
use digit_service::ApiError;
use serde_json::Value;

/// `is.program.async`.
pub const IS_PROGRAM_ASYNC: EnvVar = EnvVar {
    name: "IS_PROGRAM_ASYNC",
    aliases: &[],
    default: "false",
    help: "true: program and on-program writes are validated, given their ids, published to PROGRAM_KAFKA_TOPIC and answered; a consumer applies them",
};
/// `is.sanction.async`.
pub const IS_SANCTION_ASYNC: EnvVar = EnvVar {
    name: "IS_SANCTION_ASYNC",
    aliases: &[],
    default: "false",
    help: "true: on-sanction writes go through SANCTION_KAFKA_TOPIC",
};
/// `is.allocation.async`.
pub const IS_ALLOCATION_ASYNC: EnvVar = EnvVar {
    name: "IS_ALLOCATION_ASYNC",
    aliases: &[],
    default: "false",
    help: "true: on-allocation writes go through ALLOCATION_KAFKA_TOPIC",
};
/// `is.disburse.async`.
pub const IS_DISBURSE_ASYNC: EnvVar = EnvVar {
    name: "IS_DISBURSE_ASYNC",
    aliases: &[],
    default: "false",
    help: "true: disburse and on-disburse writes go through DISBURSE_KAFKA_TOPIC",
};
/// `program.kafka.topic`.
pub const PROGRAM_KAFKA_TOPIC: EnvVar = EnvVar {
    name: "PROGRAM_KAFKA_TOPIC",
    aliases: &[],
    default: "program-kafka-topic",
    help: "Async intake topic of program and on-program messages",
};
/// `sanction.kafka.topic`.
pub const SANCTION_KAFKA_TOPIC: EnvVar = EnvVar {
    name: "SANCTION_KAFKA_TOPIC",
    aliases: &[],
    default: "sanction-kafka-topic",
    help: "Async intake topic of on-sanction messages",
};
/// `allocation.kafka.topic`.
pub const ALLOCATION_KAFKA_TOPIC: EnvVar = EnvVar {
    name: "ALLOCATION_KAFKA_TOPIC",
    aliases: &[],
    default: "allocation-kafka-topic",
    help: "Async intake topic of on-allocation messages",
};
/// `disburse.kafka.topic`.
pub const DISBURSE_KAFKA_TOPIC: EnvVar = EnvVar {
    name: "DISBURSE_KAFKA_TOPIC",
    aliases: &[],
    default: "disburse-kafka-topic",
    help: "Async intake topic of disburse and on-disburse messages",
};
/// `error.kafka.topic`.
pub const ERROR_KAFKA_TOPIC: EnvVar = EnvVar {
    name: "ERROR_KAFKA_TOPIC",
    aliases: &[],
    default: "error-queue",
    help: "Where intake messages that cannot be processed at all are dead-lettered",
};
/// `spring.kafka.consumer.group-id`.
pub const KAFKA_GROUP_ID: EnvVar = EnvVar {
    name: "PROGRAM_KAFKA_GROUP_ID",
    aliases: &["SPRING_KAFKA_CONSUMER_GROUP_ID"],
    default: "program-service",
    help: "Consumer group of the async intake",
};

/// The intake settings.
pub const INTAKE_VARS: &[EnvVar] = &[
    IS_PROGRAM_ASYNC,
    IS_SANCTION_ASYNC,
    IS_ALLOCATION_ASYNC,
    IS_DISBURSE_ASYNC,
    PROGRAM_KAFKA_TOPIC,
    SANCTION_KAFKA_TOPIC,
    ALLOCATION_KAFKA_TOPIC,
    DISBURSE_KAFKA_TOPIC,
    ERROR_KAFKA_TOPIC,
    KAFKA_GROUP_ID,
];

/// The four aggregates, each with its own async flag and topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    /// program, on-program
    Program,
    /// on-sanction
    Sanction,
    /// on-allocation
    Allocation,
    /// disburse, on-disburse
    Disburse,
}

/// Per aggregate: asynchronous or not, and its topic.
#[derive(Debug, Clone)]
pub struct IntakeSettings {
    /// (aggregate, async?, topic).
    pub aggregates: [(Aggregate, bool, String); 4],
    /// Dead letters.
    pub error_topic: String,
    /// Consumer group.
    pub group_id: String,
}

impl IntakeSettings {
    /// Reads the settings.
    pub fn from_env(env: &Env) -> anyhow::Result<Self> {
        use anyhow::Context as _;
        let flag = |v: &EnvVar| env.parse::<bool>(v).with_context(|| v.name);
        Ok(Self {
            aggregates: [
                (
                    Aggregate::Program,
                    flag(&IS_PROGRAM_ASYNC)?,
                    env.get_or_default(&PROGRAM_KAFKA_TOPIC),
                ),
                (
                    Aggregate::Sanction,
                    flag(&IS_SANCTION_ASYNC)?,
                    env.get_or_default(&SANCTION_KAFKA_TOPIC),
                ),
                (
                    Aggregate::Allocation,
                    flag(&IS_ALLOCATION_ASYNC)?,
                    env.get_or_default(&ALLOCATION_KAFKA_TOPIC),
                ),
                (
                    Aggregate::Disburse,
                    flag(&IS_DISBURSE_ASYNC)?,
                    env.get_or_default(&DISBURSE_KAFKA_TOPIC),
                ),
            ],
            error_topic: env.get_or_default(&ERROR_KAFKA_TOPIC),
            group_id: env.get_or_default(&KAFKA_GROUP_ID),
        })
    }

    /// Whether `aggregate` is asynchronous, and its topic.
    pub fn of(&self, aggregate: Aggregate) -> (bool, &str) {
        self.aggregates
            .iter()
            .find(|(a, ..)| *a == aggregate)
            .map_or((false, ""), |(_, on, topic)| (*on, topic.as_str()))
    }

    /// Whether any aggregate is asynchronous (the consumer runs only then).
    pub fn any(&self) -> bool {
        self.aggregates.iter().any(|(_, on, _)| *on)
    }

    /// The topics of the asynchronous aggregates.
    pub fn topics(&self) -> Vec<&str> {
        self.aggregates
            .iter()
            .filter(|(_, on, _)| *on)
            .map(|(_, _, t)| t.as_str())
            .collect()
    }
}

/// One create/update/reply endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    /// `program/_create`
    ProgramCreate,
    /// `program/_update`
    ProgramUpdate,
    /// `on-program/_create`
    OnProgramCreate,
    /// `on-program/_update`
    OnProgramUpdate,
    /// `on-sanction/_create`
    OnSanctionCreate,
    /// `on-sanction/_update`
    OnSanctionUpdate,
    /// `on-allocation/_create`
    OnAllocationCreate,
    /// `on-allocation/_update`
    OnAllocationUpdate,
    /// `disburse/_create`
    DisburseCreate,
    /// `disburse/_update`
    DisburseUpdate,
    /// `on-disburse/_create`
    OnDisburseCreate,
    /// `on-disburse/_update`
    OnDisburseUpdate,
}

impl Write {
    /// Every write endpoint.
    pub const ALL: [Write; 12] = [
        Self::ProgramCreate,
        Self::ProgramUpdate,
        Self::OnProgramCreate,
        Self::OnProgramUpdate,
        Self::OnSanctionCreate,
        Self::OnSanctionUpdate,
        Self::OnAllocationCreate,
        Self::OnAllocationUpdate,
        Self::DisburseCreate,
        Self::DisburseUpdate,
        Self::OnDisburseCreate,
        Self::OnDisburseUpdate,
    ];

    /// The endpoint's message type and action (its URL).
    pub fn route(self) -> (MessageType, Action) {
        use Action::{Create, Update};
        match self {
            Self::ProgramCreate => (MessageType::Program, Create),
            Self::ProgramUpdate => (MessageType::Program, Update),
            Self::OnProgramCreate => (MessageType::OnProgram, Create),
            Self::OnProgramUpdate => (MessageType::OnProgram, Update),
            Self::OnSanctionCreate => (MessageType::OnSanction, Create),
            Self::OnSanctionUpdate => (MessageType::OnSanction, Update),
            Self::OnAllocationCreate => (MessageType::OnAllocation, Create),
            Self::OnAllocationUpdate => (MessageType::OnAllocation, Update),
            Self::DisburseCreate => (MessageType::Disburse, Create),
            Self::DisburseUpdate => (MessageType::Disburse, Update),
            Self::OnDisburseCreate => (MessageType::OnDisburse, Create),
            Self::OnDisburseUpdate => (MessageType::OnDisburse, Update),
        }
    }

    /// The endpoint of a header (what a consumed message asks for).
    pub fn of(message_type: MessageType, action: Action) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|w| w.route() == (message_type, action))
    }

    /// The path under `{context}/v1/` (for role-actions and logs).
    pub fn path(self) -> String {
        let (t, a) = self.route();
        format!("{}/_{}", t.as_str(), a.as_str())
    }

    /// Its aggregate.
    pub fn aggregate(self) -> Aggregate {
        match self.route().0 {
            MessageType::Program | MessageType::OnProgram => Aggregate::Program,
            MessageType::OnSanction | MessageType::Sanction => Aggregate::Sanction,
            MessageType::OnAllocation | MessageType::Allocation => Aggregate::Allocation,
            _ => Aggregate::Disburse,
        }
    }

    fn body(self) -> Body {
        match self.aggregate() {
            Aggregate::Program => Body::Program,
            Aggregate::Sanction => Body::Sanction,
            Aggregate::Allocation => Body::Allocation,
            Aggregate::Disburse => Body::Disbursement,
        }
    }
}

/// The JSON of an answer (or an HTTP error to return).
type Answer = Result<Value, ApiError>;

impl ProgramService {
    /// A write endpoint: the pipeline now (default), or — for an asynchronous aggregate —
    /// validated, given its ids, published and answered (module doc).
    pub async fn write(&self, caller: &Caller, write: Write, body: &[u8]) -> Answer {
        let (asynchronous, topic) = self.intake.of(write.aggregate());
        if asynchronous {
            return self.publish(caller, write, body, topic).await;
        }
        Ok(self.run_write(caller, write, body).await?)
    }

    /// Parses `body` as `write`'s envelope and runs its pipeline.
    pub async fn run_write(
        &self,
        caller: &Caller,
        write: Write,
        body: &[u8],
    ) -> Result<Value, ApiFailure> {
        macro_rules! go {
            ($t:ty, $method:ident) => {{
                let (env, raw) = parse_write::<$t>(write.body(), body)?;
                Ok(self.$method(caller, env, raw).await?)
            }};
        }
        match write {
            Write::ProgramCreate => go!(Program, create_program),
            Write::ProgramUpdate => go!(Program, update_program),
            Write::OnProgramCreate => go!(Program, on_program_create),
            Write::OnProgramUpdate => go!(Program, on_program_update),
            Write::OnSanctionCreate => go!(Sanction, on_sanction_create),
            Write::OnSanctionUpdate => go!(Sanction, on_sanction_update),
            Write::OnAllocationCreate => go!(Allocation, on_allocation_create),
            Write::OnAllocationUpdate => go!(Allocation, on_allocation_update),
            Write::DisburseCreate => go!(Disbursement, disburse_create),
            Write::DisburseUpdate => go!(Disbursement, disburse_update),
            Write::OnDisburseCreate => go!(Disbursement, on_disburse_create),
            Write::OnDisburseUpdate => go!(Disbursement, on_disburse_update),
        }
    }

    async fn publish(&self, caller: &Caller, write: Write, body: &[u8], topic: &str) -> Answer {
        let (url_type, url_action) = write.route();
        // Everything the synchronous path would refuse with a 400/403 is refused now.
        let location = match write.aggregate() {
            Aggregate::Program => {
                let (env, _) = parse_write::<Program>(write.body(), body)?;
                self.validate_header(&env.header, url_type, url_action)?;
                env.message.location_code
            }
            Aggregate::Sanction => {
                let (env, _) = parse_write::<Sanction>(write.body(), body)?;
                self.validate_header(&env.header, url_type, url_action)?;
                env.message.location_code
            }
            Aggregate::Allocation => {
                let (env, _) = parse_write::<Allocation>(write.body(), body)?;
                self.validate_header(&env.header, url_type, url_action)?;
                env.message.location_code
            }
            Aggregate::Disburse => {
                let (env, _) = parse_write::<Disbursement>(write.body(), body)?;
                self.validate_header(&env.header, url_type, url_action)?;
                env.message.location_code
            }
        };
        self.authorize(caller, &[location.as_deref().unwrap_or_default()])
            .await?;
        let mut envelope: Value = serde_json::from_slice(body)
            .map_err(|e| ProgramError::Corrupt(format!("re-reading a parsed body: {e}")))?;
        let creates = url_action == Action::Create;
        let id = assign_ids(&mut envelope["message"], creates);
        let producer = self.producer.as_ref().ok_or_else(|| {
            ProgramError::Dependency("asynchronous intake needs a Kafka producer".into())
        })?;
        let correlation =
            (!caller.correlation_id.is_empty()).then_some(caller.correlation_id.as_str());
        producer
            .send_json(topic, Some(&id), &envelope, correlation)
            .await
            .map_err(|e| ProgramError::Dependency(format!("async intake: {e}")))?;
        Ok(envelope)
    }
}

/// A failure of [`ProgramService::run_write`]: an HTTP error answer (`ApiError`, from the
/// parser or the pipeline), kept apart from the pipeline's own error so the consumer can
/// tell a poison message (parse, header) from a transient failure.
#[derive(Debug)]
pub enum ApiFailure {
    /// The body or header is unacceptable (400) — retrying cannot help.
    Refused(ApiError),
    /// The pipeline failed.
    Pipeline(ProgramError),
}

impl From<ApiError> for ApiFailure {
    fn from(e: ApiError) -> Self {
        Self::Refused(e)
    }
}

impl From<ProgramError> for ApiFailure {
    fn from(e: ProgramError) -> Self {
        Self::Pipeline(e)
    }
}

impl From<ApiFailure> for ApiError {
    fn from(f: ApiFailure) -> Self {
        match f {
            ApiFailure::Refused(e) => e,
            ApiFailure::Pipeline(e) => e.into(),
        }
    }
}

/// Gives the message (and its children) ids where they have none; returns the entity id.
/// On creates only: an update names existing records.
fn assign_ids(message: &mut Value, creates: bool) -> String {
    if creates {
        if let Some(children) = message.get_mut("children").and_then(Value::as_array_mut) {
            for child in children {
                if child.get("id").is_none_or(Value::is_null) {
                    child["id"] = Value::String(new_id());
                }
            }
        }
        if message.get("id").is_none_or(Value::is_null) && message.is_object() {
            message["id"] = Value::String(new_id());
        }
    }
    message
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// Consumes the intake topics and applies each message through the same pipelines.
#[derive(Clone)]
pub struct IntakeConsumer {
    /// The service.
    pub service: ProgramService,
}

impl MessageHandler for IntakeConsumer {
    async fn handle(&self, msg: &InboundMessage) -> Result<(), HandlerError> {
        let value: Value = msg.json().map_err(HandlerError::permanent)?;
        let header = &value["header"];
        let route = header["message_type"]
            .as_str()
            .and_then(MessageType::parse)
            .zip(header["action"].as_str().and_then(Action::parse))
            .and_then(|(t, a)| Write::of(t, a));
        let Some(write) = route else {
            return Err(HandlerError::permanent(format!(
                "no endpoint for message_type {} action {}",
                header["message_type"], header["action"]
            )));
        };
        let caller = Caller {
            user: None,
            path: write.path(),
            correlation_id: msg
                .header(digit_kafka::CORRELATION_ID_HEADER)
                .and_then(|h| std::str::from_utf8(h).ok())
                .unwrap_or_default()
                .to_owned(),
        };
        match self.service.run_write(&caller, write, &msg.payload).await {
            Ok(_) => Ok(()),
            Err(ApiFailure::Refused(e)) => Err(HandlerError::permanent(format!(
                "{}: {:?}",
                write.path(),
                e.body().errors.first().map(|d| d.code.clone())
            ))),
            Err(ApiFailure::Pipeline(
                e @ (ProgramError::Header(..) | ProgramError::Forbidden(_)),
            )) => Err(HandlerError::permanent(e)),
            Err(ApiFailure::Pipeline(e)) => Err(HandlerError::transient(e)),
        }
    }
}

/// Registers the intake consumer (`worker:program-intake`) when an aggregate is async.
pub fn register_consumer(
    platform: &digit_runtime::Platform,
    service: &ProgramService,
    producer: Producer,
) -> anyhow::Result<()> {
    let settings = service.intake.clone();
    if !settings.any() {
        return Ok(());
    }
    let kafka = platform.kafka.clone();
    let service = service.clone();
    platform.workers.register(
        "program-intake",
        digit_runtime::OnCrash::default(),
        move |shutdown| {
            let (kafka, settings, service, producer) = (
                kafka.clone(),
                settings.clone(),
                service.clone(),
                producer.clone(),
            );
            async move {
                let topics = settings.topics();
                let runner = digit_kafka::ConsumerRunner::new(&kafka, &settings.group_id, &topics)?;
                let dead = digit_kafka::DeadLetters::new(producer, settings.error_topic.clone());
                runner
                    .run(IntakeConsumer { service }, Some(dead), async move {
                        shutdown.wait().await
                    })
                    .await
            }
        },
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn every_write_routes_back_to_itself() {
        for w in Write::ALL {
            let (t, a) = w.route();
            assert_eq!(Write::of(t, a), Some(w));
        }
        assert_eq!(Write::of(MessageType::Program, Action::Search), None);
        assert_eq!(Write::DisburseCreate.path(), "disburse/_create");
    }

    #[test]
    fn ids_are_assigned_on_creates_only() {
        let mut m = json!({"id": null, "children": [{"id": "kept"}, {"name": "x"}]});
        let id = assign_ids(&mut m, true);
        assert_eq!(m["id"], json!(id));
        assert_eq!(m["children"][0]["id"], "kept");
        assert!(m["children"][1]["id"].is_string());
        let mut u = json!({"id": "u1", "children": [{"name": "x"}]});
        assert_eq!(assign_ids(&mut u, false), "u1");
        assert!(u["children"][0].get("id").is_none());
    }
}
