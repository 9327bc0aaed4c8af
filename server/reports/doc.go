// Package reports answers the coordinators' questions about who took part and what they
// said: participation and theme reports per community, venue type, language, ethnicity,
// age band or engagement, under NHS disclosure control (server/disclosure), and the gap
// report against a population baseline.
//
// It reads the replica's materialised records through a read model, [Index], holding in
// memory only the few fields the reports need, refreshed incrementally from the ingest
// sequence (MaxSeq, Pull, Get). It never writes to the replica. Its own small tables
// (baselines, the export log) live in coord.db ([Coord]), next to the replica.
//
// Counting rules (see docs/PROTOCOL.md, "Reports, decisions, feedback, exports"):
//
//   - a conversation counts only if its consent exists, is not withdrawn and its scopes
//     include record_views; participants are the distinct participants with such a
//     conversation; group conversations (no participant) count as conversations, and
//     their group_size in the separate group_participants measure, never as participants;
//   - ethnicity and age band count only under a valid consent of that participant that
//     includes equality_monitoring, otherwise the participant is "not_recorded";
//   - community is the participant's self-described set, language the conversation's
//     locales (else the participant's preferred_locale), both by base language and
//     multi-valued: a unit in two groups counts in both, so rows need not add up to the
//     total.
//
// It imports schema, syncengine (types only) and server/disclosure; never HTTP.
package reports
