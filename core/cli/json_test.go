package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// docField is one field docs/json.md lists for a schema.
type docField struct {
	isMap, optional bool
}

// documentedSchemas reads docs/json.md: each "## <schema>" section's
// table of fields.
func documentedSchemas(t *testing.T) map[string]map[string]docField {
	t.Helper()
	f, err := os.Open("../../docs/json.md")
	must(t, err)
	defer f.Close()
	row := regexp.MustCompile("^\\| `([^`]+)` \\| ([^|]+) \\|")
	out := map[string]map[string]docField{}
	var current string
	for sc := bufio.NewScanner(f); sc.Scan(); {
		line := sc.Text()
		if name, ok := strings.CutPrefix(line, "## "); ok {
			current = name
			out[current] = map[string]docField{}
			continue
		}
		if m := row.FindStringSubmatch(line); m != nil && current != "" {
			out[current][m[1]] = docField{isMap: strings.HasPrefix(m[2], "map"), optional: strings.Contains(m[2], "*optional*")}
		}
	}
	return out
}

// fieldPaths lists the fields of a decoded JSON value as docs/json.md
// names them ("hosts[].ip"), not descending into maps.
func fieldPaths(v any, prefix string, doc map[string]docField, out map[string]bool) {
	switch v := v.(type) {
	case map[string]any:
		for k, sub := range v {
			path := k
			if prefix != "" {
				path = prefix + "." + k
			}
			out[path] = true
			if !doc[path].isMap {
				fieldPaths(sub, path, doc, out)
			}
		}
	case []any:
		for _, e := range v {
			fieldPaths(e, prefix+"[]", doc, out)
		}
	}
}

// TestJSONOutputsAreDocumented runs every command that prints JSON and
// checks its output against docs/json.md: the schema it names is
// documented there, every field it prints is listed, and every field
// not marked optional is printed (when its parent is).
func TestJSONOutputsAreDocumented(t *testing.T) {
	skipShort(t, "runs rounds on the in-process fleet")
	docs := documentedSchemas(t)
	r, _ := fleetRound(t, "")
	overlay := filepath.Join(r.dir, "o.hcl")
	must(t, os.WriteFile(overlay, []byte("group \"all\" {\n  ips = [\"127.0.0.0/8\"]\n}\n"), 0o600))
	db := filepath.Join(r.dir, "json.db")
	commands := []struct {
		name string
		args []string
	}{
		{"run", r.args("--output", "json")},
		{"hosts check", []string{"hosts", "check", "--config", r.config, "--data-dir", r.dataDir, "--output", "json"}},
		{"validate", []string{"validate", "--config", r.config, "--data-dir", r.dataDir, "--overlay", overlay, "--output", "json"}},
		{"plugins list", []string{"plugins", "list", "--data-dir", r.dataDir, "--output", "json"}},
		{"config show", []string{"config", "show", "--config", r.config, "--data-dir", r.dataDir, "--overlay", overlay, "--output", "json"}},
		{"db init", []string{"db", "init", "--db", db, "--data-dir", r.dataDir, "--output", "json"}},
		{"db prune", []string{"db", "prune", "--db", db, "--older-than", "90d", "--data-dir", r.dataDir, "--output", "json"}},
	}
	seen := map[string]map[string]bool{}
	for _, c := range commands {
		name := c.name
		code, stdout, stderr := runMain(context.Background(), "test", c.args...)
		if code != ExitOK {
			t.Errorf("%s: exit %d\n%s", name, code, stderr)
			continue
		}
		var v map[string]any
		dec := json.NewDecoder(strings.NewReader(stdout))
		if err := dec.Decode(&v); err != nil || dec.More() {
			t.Errorf("%s: stdout is not one JSON object (%v):\n%s", name, err, stdout)
			continue
		}
		schema, _ := v["schema"].(string)
		doc, ok := docs[schema]
		if !ok {
			t.Errorf("%s: schema %q is not documented in docs/json.md", name, schema)
			continue
		}
		if seen[schema] == nil {
			seen[schema] = map[string]bool{}
		}
		fieldPaths(v, "", doc, seen[schema])
	}
	for schema, fields := range seen {
		doc := docs[schema]
		for f := range fields {
			if _, ok := doc[f]; !ok {
				t.Errorf("%s: field %s is printed but not in docs/json.md", schema, f)
			}
		}
		for f, d := range doc {
			parent := f[:max(strings.LastIndexAny(f, ".["), 0)]
			if !d.optional && !fields[f] && (parent == "" || fields[parent]) {
				t.Errorf("%s: field %s is documented as always printed, but was not", schema, f)
			}
		}
	}
	var missing []string
	for schema := range docs {
		if strings.HasPrefix(schema, "cscs/") && seen[schema] == nil {
			missing = append(missing, schema)
		}
	}
	if slices.Sort(missing); len(missing) > 0 {
		t.Errorf("no command printed %v", missing)
	}
}
