package prefstest

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to make and drop schemas

	"facereward/prefs"
)

// EnvPostgres names the variable that holds the URL of a PostgreSQL the
// tests may use; CI sets it, and .ci/postgres starts one and prints it.
const EnvPostgres = "FACEREWARD_TEST_POSTGRES"

// Kinds lists the database kinds, for table-driven tests.
func Kinds() []string { return []string{"sqlite", "postgres"} }

// DSN returns what prefs.Open takes for a fresh, empty database of kind
// ("sqlite" or "postgres"), removed when the test ends: a file in
// t.TempDir, or a schema of its own in the PostgreSQL at $EnvPostgres.
// The test is skipped when that variable is unset.
func DSN(t testing.TB, kind string) string {
	t.Helper()
	switch kind {
	case "sqlite":
		return filepath.Join(t.TempDir(), "prefs.db")
	case "postgres":
		return postgresDSN(t)
	}
	t.Fatalf("prefstest: kind %q: want sqlite or postgres", kind)
	return ""
}

// Open opens a fresh database of kind (see DSN), closed when the test
// ends.
func Open(t testing.TB, kind string) *prefs.DB {
	t.Helper()
	db, err := prefs.Open(DSN(t, kind))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// PostgresURL returns the URL in $EnvPostgres, parsed; the test is
// skipped when that is unset. Tests that only connect should use DSN,
// which isolates them.
func PostgresURL(t testing.TB) *url.URL {
	t.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		t.Skip(EnvPostgres + " is unset: to run the PostgreSQL tests, export " + EnvPostgres + "=$(.ci/postgres)")
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("prefstest: %s is not a postgres:// URL", EnvPostgres) // not quoted: it may hold a password
	}
	return u
}

// postgresDSN makes a schema with a random name and returns the server's
// URL with search_path set to it, so that tests running at once, here or
// in other packages, never see each other's tables.
func postgresDSN(t testing.TB) string {
	t.Helper()
	u := PostgresURL(t)
	admin, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	var b [8]byte
	rand.Read(b[:])
	schema := "test_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		admin.Close()
		t.Fatalf("prefstest: creating schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			t.Errorf("prefstest: dropping schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
