package sqlmigrate

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	sql := &fstest.MapFile{Data: []byte(`SELECT 1;`)}
	tests := map[string]struct {
		files    fstest.MapFS
		versions []int
		wantErr  string
	}{
		"in order":         {files: fstest.MapFS{"m/0002_b.sql": sql, "m/0001_a.sql": sql}, versions: []int{1, 2}},
		"subdirectory":     {files: fstest.MapFS{"m/0001_a.sql": sql, "m/old/0002_b.sql": sql}, versions: []int{1}},
		"bad name":         {files: fstest.MapFS{"m/0001_a.sql": sql, "m/2_b.sql": sql}, wantErr: "not named NNNN_name.sql"},
		"stray file":       {files: fstest.MapFS{"m/0001_a.sql": sql, "m/.keep": sql}, wantErr: "not named NNNN_name.sql"},
		"gap":              {files: fstest.MapFS{"m/0001_a.sql": sql, "m/0003_c.sql": sql}, wantErr: "without gaps"},
		"duplicate":        {files: fstest.MapFS{"m/0001_a.sql": sql, "m/0001_b.sql": sql}, wantErr: "without gaps"},
		"not from 1":       {files: fstest.MapFS{"m/0002_b.sql": sql}, wantErr: "without gaps"},
		"only directories": {files: fstest.MapFS{"m/sub/0001_a.sql": sql}, wantErr: "no migrations found"},
		"no directory":     {files: fstest.MapFS{}, wantErr: "read migrations directory"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ms, err := Load(tc.files, "m")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v; want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, m := range ms {
				got = append(got, m.Version)
			}
			if !slices.Equal(got, tc.versions) {
				t.Errorf("versions %v; want %v", got, tc.versions)
			}
		})
	}
}

// fakeDB is a database that records statements; version is what
// schema_migrations holds (-1: no table).
type fakeDB struct {
	version   int
	applied   []string
	failOn    string
	commits   int
	rollbacks int
}

type fakeTx struct{ db *fakeDB }

func (t fakeTx) QueryInt(_ context.Context, query string, _ ...any) (int, error) {
	if query == "has" {
		if t.db.version < 0 {
			return 0, nil
		}
		return 1, nil
	}
	return max(t.db.version, 0), nil
}

func (t fakeTx) Exec(_ context.Context, query string, args ...any) error {
	switch {
	case query == "create":
		t.db.version = max(t.db.version, 0)
	case query == "record":
		t.db.version = args[0].(int)
	case query == t.db.failOn:
		return errors.New("syntax error")
	default:
		t.db.applied = append(t.db.applied, query)
	}
	return nil
}

func (t fakeTx) Commit(context.Context) error   { t.db.commits++; return nil }
func (t fakeTx) Rollback(context.Context) error { t.db.rollbacks++; return nil }

func (db *fakeDB) dialect() Dialect {
	return Dialect{
		Begin:    func(context.Context) (Tx, error) { return fakeTx{db}, nil },
		HasTable: "has", CreateTable: "create", Record: "record",
	}
}

// TestRun: migrations apply in order from the recorded version, each in
// its own transaction; a failing one stops the run with its name; a newer
// database is refused; Check tells a database behind from one ahead.
func TestRun(t *testing.T) {
	ctx := context.Background()
	ms := []Migration{{1, "a", "A"}, {2, "b", "B"}, {3, "c", "C"}}

	db := &fakeDB{version: -1}
	if err := Check(ctx, fakeTx{db}, db.dialect(), 3); err == nil || !strings.Contains(err.Error(), "run `cscs db init`") {
		t.Errorf("Check before Run: %v", err)
	}
	if err := Run(ctx, db.dialect(), ms); err != nil || !slices.Equal(db.applied, []string{"A", "B", "C"}) || db.commits != 4 {
		t.Fatalf("Run = %v; applied %v in %d commits, want A B C in 3 and one to find nothing left", err, db.applied, db.commits)
	}
	if err := Check(ctx, fakeTx{db}, db.dialect(), 3); err != nil {
		t.Errorf("Check after Run: %v", err)
	}

	db = &fakeDB{version: 1, failOn: "C"}
	if err := Run(ctx, db.dialect(), ms); err == nil || !strings.Contains(err.Error(), "apply migration 0003_c") || db.version != 2 {
		t.Errorf("Run with a failing migration = %v at version %d; want 0003_c named, version 2 kept", err, db.version)
	}

	db = &fakeDB{version: 7}
	d := db.dialect()
	d.What, d.Fix = "state database", "use another --data-dir"
	var tooNew *TooNewError
	if err := Run(ctx, d, ms); !errors.As(err, &tooNew) || tooNew.Found != 7 || tooNew.Known != 3 ||
		err.Error() != "state database schema version 7 is newer than this cscs (knows 3); use another --data-dir" {
		t.Errorf("Run on a newer database = %v", err)
	}
	if err := Check(ctx, fakeTx{db}, db.dialect(), 3); !errors.As(err, &tooNew) || !strings.Contains(err.Error(), "upgrade cscs") {
		t.Errorf("Check on a newer database = %v", err)
	}
}
