// Package syncengine is the Fieldnotes CRDT: a hybrid logical clock, immutable ops, the
// merge rules that make every replica that has seen the same ops hold the same state,
// and a SQLite-backed replica store used by both the tablet and the server.
//
// Merge is pure and deterministic: no wall clock (time is injected), no randomness, no
// I/O inside the rules. The package knows nothing of HTTP and imports only schema from
// this module.
//
// The rules, in order of strength:
//
//   - erase: a tombstone that only grows; the record's ops are purged and anything that
//     arrives for it later is discarded;
//   - withdraw: a consent withdrawal is sticky, and it erases every conversation that was
//     ever recorded under that consent, and the participant's contact and equality fields;
//   - set: last-writer-wins registers ordered by (ts, tc, node);
//   - add/remove: add-wins observed-remove sets (a remove cancels only the adds it saw);
//   - append: an append-only log ordered by (ts, tc, node);
//   - delete: a last-writer-wins flag against every other write to the record.
//
// Unknown fields and collections are kept and passed on untouched.
package syncengine
