package alert

import (
	"reflect"
	"testing"

	"github.com/cscs-dev/cscs/core/config"
	"github.com/cscs-dev/cscs/sdk/source"
)

// testTypes are alert types of every unit kind.
var testTypes = map[string]Type{
	"cpu":        {Name: "cpu", Metric: "cpu.percent", Unit: "percent"},
	"memory":     {Name: "memory", Metric: "memory.used_percent", Unit: "percent"},
	"swap":       {Name: "swap", Metric: "swap.used_percent", Unit: "percent"},
	"swap_bytes": {Name: "swap_bytes", Metric: "swap.used_bytes", Unit: "bytes"},
	"uptime":     {Name: "uptime", Metric: "uptime.seconds", Unit: "seconds"},
	"load":       {Name: "load", Metric: "load.1", Unit: ""},
	"users":      {Name: "users", Metric: "users.logged_in", Unit: "count"},
}

func at(line int) config.Pos { return config.Pos{File: "config.xml", Line: line, Col: 5} }

func TestCompileGoodLimits(t *testing.T) {
	tests := map[string]struct {
		typ, limit string
		op         Op
		threshold  float64
		id         string
		condition  string
	}{
		"percent":                {"memory", "50%", Above, 50, "memory>50", "> 50%"},
		"percent decimal":        {"cpu", "92.5%", Above, 92.5, "cpu>92.5", "> 92.5%"},
		"explicit above":         {"memory", ">90%", Above, 90, "memory>90", "> 90%"},
		"at least":               {"memory", ">=90%", AtLeast, 90, "memory>=90", ">= 90%"},
		"at most":                {"swap", "<=5%", AtMost, 5, "swap<=5", "<= 5%"},
		"spaces around":          {"memory", "  > 90 %  ", Above, 90, "memory>90", "> 90 %"},
		"bytes 1024-based":       {"swap_bytes", "2GiB", Above, 2 << 30, "swap_bytes>2147483648", "> 2GiB"},
		"bytes 1000-based":       {"swap_bytes", "1.5GB", Above, 1.5e9, "swap_bytes>1500000000", "> 1.5GB"},
		"bytes lower case":       {"swap_bytes", "512mib", Above, 512 << 20, "swap_bytes>536870912", "> 512mib"},
		"bytes B":                {"swap_bytes", "100B", Above, 100, "swap_bytes>100", "> 100B"},
		"bytes KB":               {"swap_bytes", "3KB", Above, 3000, "swap_bytes>3000", "> 3KB"},
		"bytes TiB":              {"swap_bytes", "1TiB", Above, 1 << 40, "swap_bytes>1099511627776", "> 1TiB"},
		"bytes plain":            {"swap_bytes", "4096", Above, 4096, "swap_bytes>4096", "> 4096"},
		"uptime days":            {"uptime", "10d", Above, 10 * 86400, "uptime>864000", "> 10d"},
		"uptime below minutes":   {"uptime", "<10m", Below, 600, "uptime<600", "< 10m"},
		"uptime seconds":         {"uptime", "<600s", Below, 600, "uptime<600", "< 600s"},
		"uptime plain seconds":   {"uptime", "<600", Below, 600, "uptime<600", "< 600"},
		"uptime hours and weeks": {"uptime", "2w", Above, 14 * 86400, "uptime>1209600", "> 2w"},
		"uptime hours":           {"uptime", "1.5h", Above, 5400, "uptime>5400", "> 1.5h"},
		"load ratio":             {"load", "4", Above, 4, "load>4", "> 4"},
		"load decimal":           {"load", ">=2.5", AtLeast, 2.5, "load>=2.5", ">= 2.5"},
		"count":                  {"users", "10", Above, 10, "users>10", "> 10"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			rules, diags := Compile([]config.Alert{{Type: tc.typ, Limit: tc.limit, Pos: at(3)}}, testTypes)
			if len(diags) != 0 {
				t.Fatalf("unexpected diagnostics:\n%s", diags)
			}
			typ := testTypes[tc.typ]
			want := []Rule{{ID: tc.id, Type: tc.typ, Metric: typ.Metric, Unit: typ.Unit, Op: tc.op, Threshold: tc.threshold,
				LimitText: trimmed(tc.limit), Pos: at(3)}}
			if !reflect.DeepEqual(rules, want) {
				t.Fatalf("Compile =\n%+v\nwant\n%+v", rules, want)
			}
			if got := rules[0].Condition(); got != tc.condition {
				t.Errorf("Condition() = %q, want %q", got, tc.condition)
			}
		})
	}
}

func trimmed(s string) string {
	for len(s) > 0 && s[0] == ' ' {
		s = s[1:]
	}
	for len(s) > 0 && s[len(s)-1] == ' ' {
		s = s[:len(s)-1]
	}
	return s
}

func TestCompileDiagnostics(t *testing.T) {
	tests := map[string]struct {
		typ, limit string
		// want is the diagnostic as printed.
		want string
		// compiles is true when the alert still yields a rule (warnings).
		compiles bool
	}{
		"empty limit": {"memory", "  ",
			`config.xml:7:5: error: alert memory attribute limit: the limit is empty; fix: write a limit such as 90%`, false},
		"no number": {"memory", "high",
			`config.xml:7:5: error: alert memory attribute limit: "high" does not start with a number; fix: write a limit such as 90%`, false},
		"only comparison": {"uptime", "<",
			`config.xml:7:5: error: alert uptime attribute limit: "" does not start with a number; fix: write a limit such as 10m`, false},
		"negative": {"load", "-1",
			`config.xml:7:5: error: alert load attribute limit: a limit cannot be negative; fix: write a limit such as 4`, false},
		"two dots": {"memory", "9.0.1%",
			`config.xml:7:5: error: alert memory attribute limit: "9.0.1" is not a number; fix: write a number such as 90%`, false},
		"trailing dot": {"memory", "90.%",
			`config.xml:7:5: error: alert memory attribute limit: "90." is not a number; fix: write a number such as 90%`, false},
		"too large": {"load", "1" + zeros(400),
			`config.xml:7:5: error: alert load attribute limit: 1` + zeros(400) + ` is too large; fix: write a limit such as 4`, false},
		"decimal comma": {"memory", "92,5%",
			`config.xml:7:5: error: alert memory attribute limit: a comma is not a decimal point; fix: write >92.5%`, false},
		"equality": {"load", "=4",
			`config.xml:7:5: error: alert load attribute limit: "=" is not a comparison; fix: start the limit with >, <, >= or <= (or with nothing, which means >), as in >4`, false},
		"not equal": {"load", "!=4",
			`config.xml:7:5: error: alert load attribute limit: "!=" is not a comparison; fix: start the limit with >, <, >= or <= (or with nothing, which means >), as in >4`, false},
		"reversed at least": {"memory", "=>90%",
			`config.xml:7:5: error: alert memory attribute limit: "=>" is not a comparison; fix: write >=90%`, false},
		"reversed at most": {"uptime", "=<10m",
			`config.xml:7:5: error: alert uptime attribute limit: "=<" is not a comparison; fix: write <=10m`, false},
		"doubled": {"memory", ">>90%",
			`config.xml:7:5: error: alert memory attribute limit: ">>" is not a comparison; fix: write >90%`, false},
		"unknown unit on percent": {"memory", "50x",
			`config.xml:7:5: error: alert memory attribute limit: unknown unit "x"; fix: memory is a percentage: write a number followed by %, such as 90%`, false},
		"unknown unit on bytes": {"swap_bytes", "2GB!",
			`config.xml:7:5: error: alert swap_bytes attribute limit: unknown unit "GB!"; fix: use B, KB, MB, GB, TB (1000-based) or KiB, MiB, GiB, TiB (1024-based), as in 2GiB`, false},
		"unknown unit on seconds": {"uptime", "10y",
			`config.xml:7:5: error: alert uptime attribute limit: unknown unit "y"; fix: use s, m, h, d or w (seconds, minutes, hours, days, weeks), as in 10m or 10d`, false},
		"minutes are lower case": {"uptime", "10M",
			`config.xml:7:5: error: alert uptime attribute limit: unknown unit "M"; fix: use s, m, h, d or w (seconds, minutes, hours, days, weeks), as in 10m or 10d`, false},
		"unknown unit on ratio": {"load", "4x",
			`config.xml:7:5: error: alert load attribute limit: unknown unit "x"; fix: load is a plain number: write it without a unit, such as 4`, false},
		"size on percent": {"memory", "50GB",
			`config.xml:7:5: error: alert memory attribute limit: "50GB" is a size, but memory compares a percentage (memory.used_percent); fix: memory is a percentage: write 50%`, false},
		"big size on percent": {"memory", "512MiB",
			`config.xml:7:5: error: alert memory attribute limit: "512MiB" is a size, but memory compares a percentage (memory.used_percent); fix: memory is a percentage: write 90%`, false},
		"duration on percent": {"cpu", "<5m",
			`config.xml:7:5: error: alert cpu attribute limit: "<5m" is a duration, but cpu compares a percentage (cpu.percent); fix: cpu is a percentage: write 5%`, false},
		"percent on seconds": {"uptime", "50%",
			`config.xml:7:5: error: alert uptime attribute limit: "50%" is a percentage, but uptime compares a duration (uptime.seconds); fix: uptime is a duration: write a duration such as 10m, 12h or 10d`, false},
		"size on seconds": {"uptime", "10MB",
			`config.xml:7:5: error: alert uptime attribute limit: "10MB" is a size, but uptime compares a duration (uptime.seconds); fix: uptime is a duration: write a duration such as 10m, 12h or 10d`, false},
		"percent on bytes": {"swap_bytes", "80%",
			`config.xml:7:5: error: alert swap_bytes attribute limit: "80%" is a percentage, but swap_bytes compares a size (swap.used_bytes); fix: swap_bytes is a size in bytes: write a size such as 2GiB (1024-based) or 2GB (1000-based)`, false},
		"duration on bytes": {"swap_bytes", "3d",
			`config.xml:7:5: error: alert swap_bytes attribute limit: "3d" is a duration, but swap_bytes compares a size (swap.used_bytes); fix: swap_bytes is a size in bytes: write a size such as 2GiB (1024-based) or 2GB (1000-based)`, false},
		"ambiguous size letter": {"swap_bytes", "2G",
			`config.xml:7:5: error: alert swap_bytes attribute limit: the unit "G" is ambiguous; fix: write 2GiB (1024-based) or 2GB (1000-based)`, false},
		"ambiguous m on bytes": {"swap_bytes", "300m",
			`config.xml:7:5: error: alert swap_bytes attribute limit: the unit "m" is ambiguous; fix: write 300MiB (1024-based) or 300MB (1000-based)`, false},
		"percent on ratio": {"load", "80%",
			`config.xml:7:5: error: alert load attribute limit: "80%" is a percentage, but load compares a plain number (load.1); fix: load is a plain number: write 80`, false},
		"size on count": {"users", "5KB",
			`config.xml:7:5: error: alert users attribute limit: "5KB" is a size, but users compares a plain number (users.logged_in); fix: users is a plain number: write 5`, false},
		"plain number on percent": {"memory", "50",
			`config.xml:7:5: warning: alert memory attribute limit: "50" has no unit; read as 50%; fix: write 50%`, true},
		"percent above 100": {"memory", "150%",
			`config.xml:7:5: warning: alert memory attribute limit: memory 150% can never fire; fix: check the limit; percentages go from 0 to 100`, true},
		"below zero": {"uptime", "<0s",
			`config.xml:7:5: warning: alert uptime attribute limit: uptime <0s can never fire; fix: check the limit; values are never below 0`, true},
		"unknown type with suggestion": {"memroy", "50%",
			`config.xml:7:5: error: alert attribute type: unknown alert type "memroy"; fix: did you mean memory? known alert types: cpu, down, load, memory, swap, swap_bytes, uptime, users`, false},
		"unknown type prefix": {"mem", "50%",
			`config.xml:7:5: error: alert attribute type: unknown alert type "mem"; fix: did you mean memory? known alert types: cpu, down, load, memory, swap, swap_bytes, uptime, users`, false},
		"unknown type listing": {"disk", "90%",
			`config.xml:7:5: error: alert attribute type: unknown alert type "disk"; fix: use one of the known alert types: cpu, down, load, memory, swap, swap_bytes, uptime, users`, false},
		"empty type": {"", "90%",
			`config.xml:7:5: error: alert attribute type: unknown alert type ""; fix: use one of the known alert types: cpu, down, load, memory, swap, swap_bytes, uptime, users`, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			rules, diags := Compile([]config.Alert{{Type: tc.typ, Limit: tc.limit, Pos: at(7)}}, testTypes)
			if diags.String() != tc.want {
				t.Errorf("diagnostics:\n got  %s\n want %s", diags, tc.want)
			}
			if got := len(rules) == 1; got != tc.compiles {
				t.Errorf("compiled %d rules, want a rule: %v", len(rules), tc.compiles)
			}
			if diags.HasErrors() == tc.compiles {
				t.Errorf("HasErrors = %v with a rule compiled = %v", diags.HasErrors(), tc.compiles)
			}
		})
	}
}

func zeros(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = '0'
	}
	return string(b)
}

func TestCompileWithoutTypes(t *testing.T) {
	_, diags := Compile([]config.Alert{{Type: "memory", Limit: "50%", Pos: at(2)}}, nil)
	want := `config.xml:2:5: error: alert attribute type: unknown alert type "memory"; fix: no source declares alert types; check that the sources started, or remove the alert`
	if diags.String() != want {
		t.Errorf("got  %s\nwant %s", diags, want)
	}
}

// TestCompileKeepsGoodRules checks that bad alerts do not stop the others,
// that diagnostics come sorted by line and that duplicates are dropped.
func TestCompileKeepsGoodRules(t *testing.T) {
	alerts := []config.Alert{
		{Type: "memory", Limit: "90%", Pos: at(4)},
		{Type: "disk", Limit: "90%", Pos: at(5)},
		{Type: "cpu", Limit: "20%", Pos: at(6)},
		{Type: "memory", Limit: ">90.0%", Pos: at(7)},
		{Type: "uptime", Limit: "soon", Pos: at(3)},
		{Type: "memory", Limit: "95%", Pos: at(8)},
	}
	rules, diags := Compile(alerts, testTypes)
	var ids []string
	for _, r := range rules {
		ids = append(ids, r.ID)
	}
	if want := []string{"memory>90", "cpu>20", "memory>95"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("rule IDs = %q, want %q", ids, want)
	}
	want := `config.xml:3:5: error: alert uptime attribute limit: "soon" does not start with a number; fix: write a limit such as 10m
config.xml:5:5: error: alert attribute type: unknown alert type "disk"; fix: use one of the known alert types: cpu, down, load, memory, swap, swap_bytes, uptime, users
config.xml:7:5: warning: alert memory: the same rule as on line 4 (memory > 90%); fix: remove one of them`
	if diags.String() != want {
		t.Errorf("diagnostics:\n%s\nwant\n%s", diags, want)
	}
}

// TestCompileChecksTypeOfReportedLimit: an alert whose limit the
// inventory loader already reported has its type checked, and no rule and
// no second diagnostic for its limit; a down alert so marked is skipped.
func TestCompileChecksTypeOfReportedLimit(t *testing.T) {
	alerts := []config.Alert{
		{Type: "mem", LimitReported: true, Pos: at(3)},
		{Type: "memory", LimitReported: true, Pos: at(4)},
		{Type: DownType, LimitReported: true, Pos: at(5)},
	}
	rules, diags := Compile(alerts, testTypes)
	want := `config.xml:3:5: error: alert attribute type: unknown alert type "mem"; fix: did you mean memory? known alert types: cpu, down, load, memory, swap, swap_bytes, uptime, users`
	if len(rules) != 0 || diags.String() != want {
		t.Errorf("rules %+v, diagnostics:\n%s\nwant none and\n%s", rules, diags, want)
	}
	if down, diags := CompileDown(alerts); down.Set || len(diags) != 0 {
		t.Errorf("CompileDown = %+v\n%s\nwant nothing", down, diags)
	}
}

// TestRuleIDsStable checks that a rule's ID depends only on its type,
// comparison and threshold: not on the order of the alerts, their
// position, the spelling of the unit or the host.
func TestRuleIDsStable(t *testing.T) {
	ids := func(alerts ...config.Alert) map[string]bool {
		rules, diags := Compile(alerts, testTypes)
		if diags.HasErrors() {
			t.Fatalf("unexpected diagnostics:\n%s", diags)
		}
		out := make(map[string]bool)
		for _, r := range rules {
			out[r.ID] = true
		}
		return out
	}
	first := ids(
		config.Alert{Type: "memory", Limit: "90%", Pos: at(3)},
		config.Alert{Type: "uptime", Limit: "<10m", Pos: at(4)},
		config.Alert{Type: "swap_bytes", Limit: "1GiB", Pos: at(5)},
	)
	reordered := ids(
		config.Alert{Type: "swap_bytes", Limit: "1024MiB", Pos: at(10)},
		config.Alert{Type: "uptime", Limit: "< 600s", Pos: at(11)},
		config.Alert{Type: "memory", Limit: ">90%", Pos: at(12)},
	)
	if !reflect.DeepEqual(first, reordered) {
		t.Errorf("IDs changed with order and spelling:\n%v\n%v", first, reordered)
	}
	changed := ids(config.Alert{Type: "memory", Limit: ">=90%", Pos: at(3)}, config.Alert{Type: "memory", Limit: "91%", Pos: at(4)})
	for id := range changed {
		if first[id] {
			t.Errorf("a different limit kept the ID %q", id)
		}
	}
}

func TestTypesFrom(t *testing.T) {
	descs := []source.Description{
		{Name: "memory", Metrics: []source.MetricInfo{{Name: "memory.used_percent", Unit: "percent"}},
			AlertTypes: []source.AlertType{{Name: "memory", Metric: "memory.used_percent"}}},
		{Name: "uptime", Metrics: []source.MetricInfo{{Name: "uptime.seconds", Unit: "seconds"}},
			AlertTypes: []source.AlertType{{Name: "uptime", Metric: "uptime.seconds"}}},
		{Name: "custom", AlertTypes: []source.AlertType{{Name: "custom", Metric: "custom.undeclared"}}},
	}
	want := map[string]Type{
		"memory": {Name: "memory", Metric: "memory.used_percent", Unit: "percent"},
		"uptime": {Name: "uptime", Metric: "uptime.seconds", Unit: "seconds"},
		"custom": {Name: "custom", Metric: "custom.undeclared", Unit: ""},
	}
	got := TypesFrom(descs)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("TypesFrom = %+v, want %+v", got, want)
	}
	if names := TypeNames(got); !reflect.DeepEqual(names, []string{"custom", "memory", "uptime"}) {
		t.Errorf("TypeNames = %q", names)
	}
}

func TestOpHolds(t *testing.T) {
	tests := map[string]struct {
		op        Op
		v, th     float64
		wantHolds bool
	}{
		"above over":     {Above, 91, 90, true},
		"above equal":    {Above, 90, 90, false},
		"at least equal": {AtLeast, 90, 90, true},
		"at least under": {AtLeast, 89.9, 90, false},
		"below under":    {Below, 599, 600, true},
		"below equal":    {Below, 600, 600, false},
		"at most equal":  {AtMost, 600, 600, true},
		"at most over":   {AtMost, 601, 600, false},
		"unknown op":     {Op("=="), 1, 1, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tc.op.Holds(tc.v, tc.th); got != tc.wantHolds {
				t.Errorf("%v %s %v = %v, want %v", tc.v, tc.op, tc.th, got, tc.wantHolds)
			}
		})
	}
}

// TestCompileFor: config.xml's for attribute becomes the rule's For, so
// the rule fires only after that many rounds in a row, as an overlay
// rule's for; without it the rule fires at once. It is not part of the
// rule's identity: adding it keeps the rule's state.
func TestCompileFor(t *testing.T) {
	rules, diags := Compile([]config.Alert{
		{Type: "cpu", Limit: "95%", For: 3, Pos: at(3)},
		{Type: "memory", Limit: "90%", Pos: at(4)},
	}, testTypes)
	if len(diags) != 0 || len(rules) != 2 {
		t.Fatalf("rules %v, diagnostics %v", rules, diags)
	}
	if rules[0].For != 3 || rules[1].For != 0 {
		t.Errorf("For = %d and %d, want 3 and 0", rules[0].For, rules[1].For)
	}
	plain, _ := Compile([]config.Alert{{Type: "cpu", Limit: "95%", Pos: at(3)}}, testTypes)
	if plain[0].ID != rules[0].ID {
		t.Errorf("for changed the rule's ID: %q vs %q", rules[0].ID, plain[0].ID)
	}
}
