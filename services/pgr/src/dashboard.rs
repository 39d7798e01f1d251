//! The numbers every `_search` answer carries (`complaintsResolved` in the last 30 days and
//! `averageResolutionTime` in days, upstream-pgr §5.1): an aggregate over the tenant's
//! closed complaints, which upstream runs on every search. Here it is cached per tenant for
//! `PGR_DASHBOARD_CACHE_MS` and dropped as soon as this instance closes a complaint of the
//! tenant, so its own writes show at once; another replica's closes show within the TTL.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Resolved complaints (30 days) and average resolution time (days).
pub type Figures = (i64, i64);

/// Tenant → figures and when they were read. Cheap to clone (shared).
#[derive(Debug, Clone, Default)]
pub struct DashboardCache {
    ttl: Duration,
    entries: Arc<Mutex<HashMap<String, Entry>>>,
}

#[derive(Debug, Default)]
struct Entry {
    figures: Option<(Instant, Figures)>,
    // The last close of the tenant's complaints seen here: figures read before it are stale.
    closed_at: Option<Instant>,
}

impl DashboardCache {
    /// A cache keeping figures for `ttl` (zero: no caching).
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Arc::default(),
        }
    }

    /// The cached figures of `tenant`, if still fresh.
    pub fn get(&self, tenant: &str) -> Option<Figures> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(tenant)?
            .figures
            .filter(|(read, _)| read.elapsed() < self.ttl)
            .map(|(_, figures)| figures)
    }

    /// Keeps `figures` of `tenant` that a query started at `read` returned — unless a
    /// close was stored since, which the query may have missed.
    pub fn put(&self, tenant: &str, read: Instant, figures: Figures) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let entry = entries.entry(tenant.to_owned()).or_default();
        if entry.closed_at.is_some_and(|closed| closed >= read) {
            return;
        }
        entry.figures = Some((read, figures));
    }

    /// Forgets `tenant`'s figures: a complaint of it was just closed and stored.
    pub fn closed(&self, tenant: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let entry = entries.entry(tenant.to_owned()).or_default();
        entry.figures = None;
        entry.closed_at = Some(Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_kept_for_the_ttl_and_dropped_on_a_close() {
        let cache = DashboardCache::new(Duration::from_secs(60));
        assert_eq!(cache.get("pg.citya"), None);
        cache.put("pg.citya", Instant::now(), (3, 2));
        assert_eq!(cache.get("pg.citya"), Some((3, 2)));
        assert_eq!(cache.get("pg.cityb"), None);
        let before_the_close = Instant::now();
        cache.closed("pg.citya");
        assert_eq!(cache.get("pg.citya"), None);
        // A query that started before the close may have missed it: not kept.
        cache.put("pg.citya", before_the_close, (3, 2));
        assert_eq!(cache.get("pg.citya"), None);
        cache.put("pg.citya", Instant::now(), (4, 2));
        assert_eq!(cache.get("pg.citya"), Some((4, 2)));
    }

    #[test]
    fn a_zero_ttl_caches_nothing_and_old_figures_expire() {
        let off = DashboardCache::new(Duration::ZERO);
        off.put("pg.citya", Instant::now(), (1, 1));
        assert_eq!(off.get("pg.citya"), None);
        let short = DashboardCache::new(Duration::from_millis(50));
        let long_ago = Instant::now().checked_sub(Duration::from_millis(100));
        if let Some(at) = long_ago {
            short.put("pg.citya", at, (1, 1));
            assert_eq!(short.get("pg.citya"), None);
        }
    }
}
