// Package sdk is the Fieldnotes on-device library: what a tablet app embeds to capture
// consent and conversations fully offline and to sync them with the server later.
//
// A Device wraps one replica store (syncengine.Store, device mode) in a directory. Every
// capture step is one store transaction, so a conversation in progress is durable after
// every answer. Consent is enforced here first: nothing a person said is stored without a
// consent covering record_views, no contact detail without contact_for_feedback, no
// equality answer without equality_monitoring, and a withdrawn consent covers nothing.
// Errors are *Error values with a stable Code and a Message in the worker's language.
//
// WithStoreKey encrypts the store at rest (whole file: database, WAL, indexes) with a
// per-device key the platform keystore keeps; a wipe (revocation, or Wipe) deletes the
// files and destroys the key. See docs/MOBILE.md.
//
// The sync client speaks the wire protocol of docs/PROTOCOL.md (v1) over HTTP: push own
// ops in batches, pull from a cursor, apply restamped ops and erasures. Every step is
// idempotent, so a crash anywhere redoes at most one batch or page.
//
// It imports schema, syncengine and locales from this module, never server.
package sdk
