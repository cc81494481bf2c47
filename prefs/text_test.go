package prefs_test

import (
	"strings"
	"testing"

	"facereward/prefs"
)

// Names are printable UTF-8 of bounded length; the error names the field.
func TestCheckName(t *testing.T) {
	for _, ok := range []string{"ada", "Zoë Ōtsuka", "auto:svm", "李雷", strings.Repeat("é", prefs.MaxNameRunes)} {
		if err := prefs.CheckName("judge", ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"a\x00b", "tab\there", "new\nline", "\xff\xfe", "\u202eevil", strings.Repeat("x", prefs.MaxNameRunes+1)} {
		if err := prefs.CheckName("judge", bad); err == nil || !strings.HasPrefix(err.Error(), "judge: ") {
			t.Errorf("%q: error %v, want one naming the field", bad, err)
		}
	}
	if err := prefs.CheckText("face", strings.Repeat("x", prefs.MaxTextRunes+1)); err == nil {
		t.Error("over-long text accepted")
	}
}

// The database refuses a judge name with a NUL whichever database it is,
// so SQLite never holds what PostgreSQL cannot import.
func TestJudgeRefusesUnprintableName(t *testing.T) {
	s := prefs.Store{Dir: t.TempDir()}
	rec := testRecord(t, s)
	db := open(t, t.TempDir()+"/p.db")
	if err := db.AddPair(rec.Pair); err != nil {
		t.Fatal(err)
	}
	j := rec.Judgement()
	j.Judge = "a\x00da"
	if err := db.Judge(j); err == nil || !strings.Contains(err.Error(), "judge: unprintable") {
		t.Fatalf("error %v", err)
	}
}
