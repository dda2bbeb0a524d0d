//! Pending counters: what committed folds add to the site's counter items, held in one small
//! item per commit until a roll-up adds many of them to the counters at once.
//!
//! Why: a counter bumped inside every visitor's transaction costs two write units per counter
//! item per visitor, and a fold touches a dozen of them (day, all-time, pages, friction points,
//! intent signals). Written once per commit and rolled up in bulk, each counter item is written
//! once per roll-up instead. Exactly once still holds: a pending item is written in the same
//! transaction as the profiles it counts, and a roll-up deletes the items it adds (conditionally)
//! in the same transaction as the counter updates. Readers add what is still pending, so figures
//! are exact at any moment.

use std::collections::BTreeMap;

use crm_domain::scoring::pages::counted_path;
use crm_domain::scoring::{FrictionObservation, IntentObservation, Scores, SiteDelta, VisitorFold};
use crm_domain::time::Millis;
use serde::{Deserialize, Serialize};

use super::StoredVisitor;

/// What one or more commits add to one site's counters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PendingCounters {
    /// Per UTC day: the day's counters.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub days: BTreeMap<i64, DayCounts>,
    /// Changes to the all-time sums of visitors' scores, in tenths: engagement, intent,
    /// friction, churn risk.
    #[serde(default)]
    pub score_sums: [i64; 4],
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pages: BTreeMap<String, u64>,
    /// By counter id (see `writes::stable_id`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub friction: BTreeMap<String, FrictionObservation>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub intent: BTreeMap<String, IntentObservation>,
}

/// The counters of a day's aggregate item, in `writes::COUNTER_ATTRS` order.
pub type DayCounts = [u64; 7];

impl PendingCounters {
    /// Adds what a fold contributes, given the state it started from.
    pub fn add_fold(&mut self, fold: &VisitorFold, stored: &StoredVisitor) {
        for (day, delta) in &fold.deltas {
            self.add_day(*day, delta);
        }
        let previous = stored.profile.as_ref().map(|profile| profile.scores);
        let sums = score_sum_changes(previous, fold.profile.scores);
        for (sum, change) in self.score_sums.iter_mut().zip(sums) {
            *sum += change;
        }
        for observation in &fold.friction {
            merge_observation(
                &mut self.friction,
                super::writes::friction_id(observation),
                observation,
            );
        }
        for observation in &fold.intent {
            merge_observation(
                &mut self.intent,
                super::writes::intent_id(observation),
                observation,
            );
        }
    }

    /// Adds a day's site delta.
    pub fn add_day(&mut self, day: i64, delta: &SiteDelta) {
        let counts = self.days.entry(day).or_default();
        let added = [
            delta.new_visitors,
            delta.new_sessions,
            delta.events,
            delta.page_views,
            delta.rejected_events,
            delta.bot_beacons,
            delta.bot_events,
        ];
        for (count, add) in counts.iter_mut().zip(added) {
            *count = count.saturating_add(add);
        }
        for (path, views) in &delta.pages {
            let total = self.pages.entry(path.clone()).or_default();
            *total = total.saturating_add(*views);
        }
    }

    pub fn merge(&mut self, other: PendingCounters) {
        for (day, added) in other.days {
            let counts = self.days.entry(day).or_default();
            for (count, add) in counts.iter_mut().zip(added) {
                *count = count.saturating_add(add);
            }
        }
        for (sum, change) in self.score_sums.iter_mut().zip(other.score_sums) {
            *sum += change;
        }
        for (path, views) in other.pages {
            // Folds count long paths under their first bytes; items committed before they did
            // may hold a longer path, which as a counter key the store would refuse.
            let total = self
                .pages
                .entry(counted_path(&path).to_owned())
                .or_default();
            *total = total.saturating_add(views);
        }
        for (id, observation) in other.friction {
            merge_observation(&mut self.friction, id, &observation);
        }
        for (id, observation) in other.intent {
            merge_observation(&mut self.intent, id, &observation);
        }
    }

    /// Moves up to `max_items` page, friction and intent counters out into a new value; the
    /// days and score sums stay, so they are added with the last part.
    pub fn split_off(&mut self, max_items: usize) -> PendingCounters {
        let mut part = PendingCounters::default();
        let mut room = max_items;
        while room > 0 {
            if let Some((path, views)) = self.pages.pop_first() {
                part.pages.insert(path, views);
            } else if let Some((id, observation)) = self.friction.pop_first() {
                part.friction.insert(id, observation);
            } else if let Some((id, observation)) = self.intent.pop_first() {
                part.intent.insert(id, observation);
            } else {
                break;
            }
            room -= 1;
        }
        part
    }

    pub fn is_empty(&self) -> bool {
        self.days
            .values()
            .all(|counts| counts.iter().all(|count| *count == 0))
            && self.score_sums == [0; 4]
            && self.pages.is_empty()
            && self.friction.is_empty()
            && self.intent.is_empty()
    }

    /// How many counter items adding these counters writes: each day's, the all-time one, and
    /// one per page, friction point and intent signal.
    pub fn counter_items(&self) -> usize {
        self.days.len() + 1 + self.pages.len() + self.friction.len() + self.intent.len()
    }
}

/// The all-time score sums move from the visitor's previous scores (none for a new visitor) to
/// its new ones.
fn score_sum_changes(previous: Option<Scores>, current: Scores) -> [i64; 4] {
    let old = previous.unwrap_or_default();
    let pairs = [
        (old.engagement, current.engagement),
        (old.intent, current.intent),
        (old.friction, current.friction),
        (old.churn_risk, current.churn_risk),
    ];
    pairs.map(|(before, after)| {
        tenths(after)
            - if previous.is_some() {
                tenths(before)
            } else {
                0
            }
    })
}

fn tenths(score: f64) -> i64 {
    (score * 10.0).round() as i64
}

/// Observations of one counter add up; the latest sighting wins.
trait Observation: Clone {
    fn count_mut(&mut self) -> &mut u64;
    fn last_seen_mut(&mut self) -> &mut Millis;
    fn count(&self) -> u64;
    fn last_seen(&self) -> Millis;
}

impl Observation for FrictionObservation {
    fn count_mut(&mut self) -> &mut u64 {
        &mut self.count
    }
    fn last_seen_mut(&mut self) -> &mut Millis {
        &mut self.last_seen
    }
    fn count(&self) -> u64 {
        self.count
    }
    fn last_seen(&self) -> Millis {
        self.last_seen
    }
}

impl Observation for IntentObservation {
    fn count_mut(&mut self) -> &mut u64 {
        &mut self.count
    }
    fn last_seen_mut(&mut self) -> &mut Millis {
        &mut self.last_seen
    }
    fn count(&self) -> u64 {
        self.count
    }
    fn last_seen(&self) -> Millis {
        self.last_seen
    }
}

fn merge_observation<T: Observation>(into: &mut BTreeMap<String, T>, id: String, added: &T) {
    match into.get_mut(&id) {
        Some(existing) => {
            let count = existing.count().saturating_add(added.count());
            *existing.count_mut() = count;
            let last_seen = existing.last_seen().max(added.last_seen());
            *existing.last_seen_mut() = last_seen;
        }
        None => {
            into.insert(id, added.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crm_domain::scoring::FrictionKind;

    fn friction(count: u64, last_seen: i64) -> FrictionObservation {
        FrictionObservation {
            page: "/checkout".to_owned(),
            element: "button.pay".to_owned(),
            kind: FrictionKind::RageClick,
            count,
            last_seen: Millis(last_seen),
        }
    }

    #[test]
    fn merging_adds_counts_and_keeps_the_latest_sighting() {
        let mut first = PendingCounters::default();
        first.days.insert(3, [1, 1, 8, 2, 0, 0, 0]);
        first.pages.insert("/".to_owned(), 2);
        first.friction.insert("a".to_owned(), friction(2, 50));
        first.score_sums = [10, 0, -5, 0];
        let mut second = PendingCounters::default();
        second.days.insert(3, [0, 1, 4, 1, 0, 0, 0]);
        second.days.insert(4, [1, 1, 1, 1, 0, 0, 0]);
        second.pages.insert("/".to_owned(), 1);
        second.friction.insert("a".to_owned(), friction(3, 40));
        second.score_sums = [5, 1, 0, 0];
        first.merge(second);
        assert_eq!(first.days[&3], [1, 2, 12, 3, 0, 0, 0]);
        assert_eq!(first.days[&4], [1, 1, 1, 1, 0, 0, 0]);
        assert_eq!(first.pages["/"], 3);
        assert_eq!(first.friction["a"].count, 5);
        assert_eq!(first.friction["a"].last_seen, Millis(50));
        assert_eq!(first.score_sums, [15, 1, -5, 0]);
        assert_eq!(first.counter_items(), 2 + 1 + 1 + 1);
    }

    #[test]
    fn a_path_committed_before_folds_cut_long_paths_is_merged_under_the_cut_one() {
        let long = format!("/{}", "a".repeat(1_500));
        let cut = counted_path(&long).to_owned();
        let mut older = PendingCounters::default();
        older.pages.insert(long, 2);
        let mut newer = PendingCounters::default();
        newer.pages.insert(cut.clone(), 1);
        let mut merged = PendingCounters::default();
        merged.merge(older);
        merged.merge(newer);
        assert_eq!(merged.pages.into_iter().collect::<Vec<_>>(), [(cut, 3)]);
    }

    #[test]
    fn split_off_moves_at_most_the_given_number_of_counters_and_keeps_the_days() {
        let mut counters = PendingCounters::default();
        counters.days.insert(1, [1; 7]);
        for index in 0..5 {
            counters.pages.insert(format!("/{index}"), 1);
        }
        counters.friction.insert("a".to_owned(), friction(1, 1));
        let part = counters.split_off(4);
        assert_eq!(part.pages.len(), 4);
        assert!(part.days.is_empty());
        assert_eq!(counters.pages.len(), 1);
        assert_eq!(counters.friction.len(), 1);
        assert_eq!(counters.days.len(), 1);
        let rest = counters.split_off(10);
        assert_eq!(rest.pages.len() + rest.friction.len(), 2);
        assert_eq!(counters.counter_items(), 2);
    }

    #[test]
    fn nothing_added_is_empty() {
        let mut counters = PendingCounters::default();
        assert!(counters.is_empty());
        counters.days.insert(1, [0; 7]);
        assert!(counters.is_empty());
        counters.pages.insert("/".to_owned(), 1);
        assert!(!counters.is_empty());
    }
}
