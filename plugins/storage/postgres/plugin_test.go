package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/cscs-dev/cscs/plugins/storage/postgres/pgtest"
	"github.com/cscs-dev/cscs/plugins/storage/storagetest"
	"github.com/cscs-dev/cscs/sdk/sdktest"
	"github.com/cscs-dev/cscs/sdk/storage"
)

func TestPluginConformance(t *testing.T) {
	dsn, db := newSchema(t)
	cfg, err := json.Marshal(Config{DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	sdktest.StorageConformance(t, sdktest.Storage(t, &Plugin{Version: "1.2.3"}), cfg)
	// The conformance batch, written twice through gRPC, is stored once.
	got := fmt.Sprintf("collections=%d samples=%d", storagetest.Count(t, db, "collections"), storagetest.Count(t, db, "samples"))
	if got != "collections=2 samples=3" {
		t.Errorf("after the conformance run: %s; want the conformance batch once", got)
	}
}

func TestPluginOpenErrors(t *testing.T) {
	tests := map[string]struct {
		config  string
		wantErr string
	}{
		"not json":        {`{"dsn":`, "postgres configuration"},
		"no dsn":          {`{}`, `"dsn" is required`},
		"bad retention":   {`{"dsn": "postgres://127.0.0.1/x", "retention": "ninety days"}`, `"retention": age "ninety days"`},
		"unparsable dsn":  {`{"dsn": "postgres://u:pw@host:notaport/db"}`, "the dsn cannot be parsed"},
		"nobody listens":  {`{"dsn": "postgres://cscs@127.0.0.1:1/cscs?connect_timeout=2"}`, "open postgres database postgres://127.0.0.1:1/cscs (check that the server runs"},
		"wrong dsn field": {`{"path": "/tmp/x.db"}`, `"dsn" is required`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p := &Plugin{}
			err := p.Open(context.Background(), []byte(tc.config))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Open error %v; want it to contain %q", err, tc.wantErr)
			}
			if err := p.WriteBatch(context.Background(), storagetest.SyntheticBatch("r", testTime, 1, 1)); err == nil {
				t.Error("WriteBatch after a failed Open succeeded")
			}
		})
	}
}

func TestOpenMissingDatabase(t *testing.T) {
	pgtest.SchemaDSN(t) // skips when there is no server
	dsn := strings.Replace(pgtest.ServerDSN(), "/test?", "/cscs_no_such_db?", 1)
	_, err := New(context.Background(), dsn)
	if err == nil || !strings.Contains(err.Error(), `database "cscs_no_such_db" does not exist`) ||
		!strings.Contains(err.Error(), "check that the server runs, accepts this user and that the database exists") {
		t.Fatalf("New on a missing database: %v", err)
	}
	t.Log(err)
}

// TestPasswordNeverInErrors opens DSNs that hold a password in every way
// a DSN can, against servers that fail in different ways, and checks that
// no error repeats the password.
func TestPasswordNeverInErrors(t *testing.T) {
	const secret = "Tr0ub4dor&3xyzzy"
	tests := map[string]string{
		"url, refused":              "postgres://cscs:" + secret + "@127.0.0.1:1/cscs?connect_timeout=2",
		"url, bad port":             "postgres://cscs:" + secret + "@127.0.0.1:port/cscs",
		"url, bad escape":           "postgres://cscs:" + secret + "%zz@127.0.0.1/cscs",
		"url, password parameter":   "postgres://cscs@127.0.0.1:1/cscs?password=" + secret + "&connect_timeout=2",
		"url, bad parameter":        "postgres://cscs:" + secret + "@127.0.0.1:1/cscs?sslmode=sometimes",
		"key=value, refused":        "host=127.0.0.1 port=1 user=cscs password=" + secret + " dbname=cscs connect_timeout=2",
		"key=value, quoted":         "host=127.0.0.1 port=1 user=cscs password='" + secret + " x' dbname=cscs connect_timeout=2",
		"key=value, unterminated":   "host=127.0.0.1 password='" + secret,
		"server, missing database":  strings.Replace(pgtest.DefaultDSN, "postgres@", "postgres:"+secret+"@", 1) + "&dbname=cscs_no_such_db",
		"postgresql scheme refused": "postgresql://cscs:" + secret + "@127.0.0.1:1/cscs?connect_timeout=2",
	}
	for name, dsn := range tests {
		t.Run(name, func(t *testing.T) {
			cfg, err := json.Marshal(Config{DSN: dsn})
			if err != nil {
				t.Fatal(err)
			}
			err = (&Plugin{}).Open(context.Background(), cfg)
			if err == nil {
				t.Fatal("Open succeeded")
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(fmt.Sprintf("%+v", err), secret) {
				t.Errorf("error repeats the password: %v", err)
			}
		})
	}
}

func TestDatabaseName(t *testing.T) {
	dsn, _ := newSchema(t)
	s := openStore(t, dsn)
	got := s.Database()
	if pgtest.ServerDSN() == pgtest.DefaultDSN && got != "postgres://127.0.0.1:5432/test" {
		t.Errorf("Database() = %q; want postgres://127.0.0.1:5432/test", got)
	}
	if !strings.HasPrefix(got, "postgres://") || strings.ContainsAny(got, "@?") {
		t.Errorf("Database() = %q names more than server and database", got)
	}
}

func TestPluginPruneBeforeOpen(t *testing.T) { storagetest.PruneBeforeOpen(t, &Plugin{}) }

func TestFailedAutomaticPruneIsLogged(t *testing.T) {
	dsn, db := newSchema(t)
	storagetest.FailedAutomaticPruneIsLogged(t, storagetest.FailedPrune{
		Open: func(ctx context.Context, logger hclog.Logger) (storage.Storage, storagetest.Store, error) {
			p := &Plugin{Logger: logger}
			_, err := storagetest.OpenPlugin(ctx, p, Config{DSN: dsn, Retention: "1h"})
			return p, p.current(), err
		},
		SQL: db,
		RefuseDeletes: `
			CREATE FUNCTION refuse_delete() RETURNS trigger LANGUAGE plpgsql AS
			$$ BEGIN RAISE EXCEPTION 'deletes refused by test'; END $$;
			CREATE TRIGGER refuse_delete BEFORE DELETE ON collections FOR EACH ROW EXECUTE FUNCTION refuse_delete();`,
	})
}

func TestDisplayName(t *testing.T) {
	tests := map[string]string{
		"postgres://cscs:secret@db.example:6432/fleet?sslmode=require": "postgres://db.example:6432/fleet",
		"postgresql://cscs@db.example/fleet":                           "postgres://db.example:5432/fleet",
		"host=10.0.0.5 user=cscs password=secret dbname=fleet":         "postgres://10.0.0.5:5432/fleet",
		"postgres://[fd00::5]:5433/fleet":                              "postgres://[fd00::5]:5433/fleet",
		"postgres://cscs:secret@db.example:port/fleet":                 "postgres (invalid dsn)",
	}
	for dsn, want := range tests {
		t.Run(want, func(t *testing.T) {
			if got := DisplayName(dsn); got != want {
				t.Errorf("DisplayName = %q; want %q", got, want)
			}
		})
	}
}
