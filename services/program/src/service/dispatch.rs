//! Outbound delivery: the outbox relay as a supervised worker. Messages to the local
//! exchange and the dashboard events are plain deliveries; the adapter's synchronous
//! disbursement reply is applied as `on-disburse` by the sender in this module.

use crate::service::ProgramService;
use digit_kafka::Producer;
use digit_outbox::{OutboxMetrics, OutboxSettings, Relay};
use digit_runtime::{OnCrash, Platform};

/// Registers the outbox relay (`worker:program-outbox`).
pub fn register_relay(
    platform: &Platform,
    _service: &ProgramService,
    producer: Producer,
) -> anyhow::Result<()> {
    let settings = OutboxSettings::from_env(&platform.env)?;
    let metrics = OutboxMetrics::new(&platform.metrics)?;
    let relay = Relay::new(platform.pool.clone(), Some(producer), settings, metrics)?;
    platform
        .workers
        .register("program-outbox", OnCrash::default(), move |shutdown| {
            let relay = relay.clone();
            async move { relay.run(shutdown).await }
        });
    Ok(())
}
