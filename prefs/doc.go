// Package prefs holds preference data for the Face Reward Model: pairs of
// candidate restorations of one degraded face, the verdicts people (or an
// automatic labeller) give on them, the content-addressed store of their
// images, JSONL export and import, and the generation of pairs (faces
// degraded and restored several ways).
//
// Text rules: every name (a judge's) is printable UTF-8 of at most
// MaxNameRunes runes, other free text (pair ids, faces, provenance) at most
// MaxTextRunes; control characters, NUL above all, are refused on every
// write and on import, so both databases hold the same text and an export
// of either imports into the other.
//
// JSONL lines are strict: one record per line, no unknown fields, nothing
// after the record.
//
// Import is idempotent: a judgement's natural key is (pair, judge,
// verdict, at), and one already in the database is skipped and counted,
// so importing a file twice adds its verdicts once. There is no unique
// index on that key, so databases that already hold duplicates still open.
package prefs
