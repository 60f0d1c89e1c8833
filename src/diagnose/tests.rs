//! Unit tests of the diagnosis from typed evidence (no daemons): each cause from the alerts,
//! events, SAs and pings a run would have gathered.

use super::*;

#[test]
fn catalogue_ids_are_unique_and_round_trip() {
    let mut ids: Vec<&str> = CauseId::all().map(CauseId::as_str).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), CAUSES.len());
    for c in CauseId::all() {
        assert_eq!(CauseId::parse(c.as_str()), Some(c));
    }
    assert_eq!(CauseId::parse("no-such-cause"), None);
}
