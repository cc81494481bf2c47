package prefs

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// Bounds on the text a record holds. Names are short so that they fit a
// page and a log line; other free text (pair ids, faces, provenance) is
// bounded only so that one record cannot fill the database.
const (
	MaxNameRunes = 64
	MaxTextRunes = 512
	MaxKeyLen    = 64 // bytes of an idempotency key (Judgement.Key)
)

// CheckName checks an annotator's or labeller's name: printable UTF-8, at
// most MaxNameRunes runes. field names the field in the error, so that a
// client (or a line of an import) learns which one to fix.
func CheckName(field, s string) error { return checkText(field, s, MaxNameRunes) }

// CheckText checks other free text: printable UTF-8, at most MaxTextRunes
// runes.
func CheckText(field, s string) error { return checkText(field, s, MaxTextRunes) }

// checkText refuses what one database stores and the other does not, or
// what a page cannot show: invalid UTF-8 and control characters (NUL above
// all: PostgreSQL refuses it in TEXT, SQLite keeps it, so an export from
// SQLite could never be imported into PostgreSQL).
func checkText(field, s string, max int) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s: not valid UTF-8", field)
	}
	n := 0
	for i, r := range s {
		if !unicode.IsPrint(r) { // letters, marks, numbers, punctuation, symbols, ASCII space
			return fmt.Errorf("%s: unprintable character %U at byte %d", field, r, i)
		}
		n++
	}
	if n > max {
		return fmt.Errorf("%s: %d characters, above the limit of %d", field, n, max)
	}
	return nil
}

// CheckKey checks an idempotency key (Judgement.Key): 1 to MaxKeyLen
// ASCII letters, digits, '-' or '_', which covers hex, UUIDs and
// base64url, and nothing that needs escaping in a log line or a URL.
func CheckKey(field, s string) error {
	if s == "" || len(s) > MaxKeyLen {
		return fmt.Errorf("%s: %d bytes, want 1 to %d", field, len(s), MaxKeyLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-' || c == '_') {
			return fmt.Errorf("%s: byte %#02x at %d: want ASCII letters, digits, '-' or '_'", field, c, i)
		}
	}
	return nil
}
