package migrator

import (
	"reflect"
	"testing"
)

func TestSplitSQL(t *testing.T) {
	src := `-- tidemark:no-transaction
-- a comment; with a semicolon
CREATE TABLE t (id int, note text DEFAULT 'a;b''c');

/* block ; /* nested ; */ still comment */
CREATE FUNCTION f() RETURNS trigger AS $body$
BEGIN
  RAISE NOTICE 'x;y';
  RETURN NEW;
END $body$ LANGUAGE plpgsql;
INSERT INTO "we;ird" VALUES (E'it\'s;', $$a;b$$);
SELECT $1;
CREATE INDEX CONCURRENTLY t_note ON t (note)
-- trailing comment only;
`
	got := splitSQL(src)
	wantLines := []int{3, 6, 11, 12, 13}
	var lines []int
	for _, s := range got {
		lines = append(lines, s.Line)
	}
	if !reflect.DeepEqual(lines, wantLines) {
		for _, s := range got {
			t.Logf("%d: %q", s.Line, s.SQL)
		}
		t.Fatalf("statement lines %v, want %v", lines, wantLines)
	}
	if got[1].SQL[len(got[1].SQL)-len("LANGUAGE plpgsql;"):] != "LANGUAGE plpgsql;" {
		t.Errorf("function body split: %q", got[1].SQL)
	}
	if want := "INSERT INTO \"we;ird\" VALUES (E'it\\'s;', $$a;b$$);"; got[2].SQL != want {
		t.Errorf("insert = %q, want %q", got[2].SQL, want)
	}
}

func TestSplitSQLCommentsOnly(t *testing.T) {
	if got := splitSQL("-- nothing here\n/* nor here */\n;\n"); len(got) != 0 {
		t.Fatalf("got %+v", got)
	}
}
