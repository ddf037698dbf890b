package smtp

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cscs-dev/cscs/sdk/sdktest"
)

// TestDescribeDeclaresTheConfig checks the declared schema against Config
// and parseConfig: the same keys and types, the password sensitive, and
// required exactly where parseConfig refuses a configuration without the
// key.
func TestDescribeDeclaresTheConfig(t *testing.T) {
	d, err := sdktest.Notifier(t, &Notifier{}).Describe(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Config.Validate(); err != nil {
		t.Fatal(err)
	}
	sdktest.SchemaMatchesStruct(t, d.Config, Config{})
	if a, _ := d.Config.Lookup("password"); !a.Sensitive {
		t.Error(`"password" must be declared sensitive`)
	}

	// A loopback server lets username and password go without TLS; each
	// key is then left out in turn. username and password go together, so
	// they are left out together.
	full := map[string]any{
		"host": "127.0.0.1", "port": 2525, "security": "none", "username": "cscs", "password": secret,
		"auth": "login", "from": "cscs@example.com", "timeout": "5s", "insecure_skip_verify": true,
	}
	for _, a := range d.Config.Attributes {
		t.Run(a.Name, func(t *testing.T) {
			cfg := map[string]any{}
			for k, v := range full {
				if k != a.Name && !(a.Name == "username" && k == "password" || a.Name == "password" && k == "username") {
					cfg[k] = v
				}
			}
			raw, _ := json.Marshal(cfg)
			_, err := ParseConfig(raw)
			switch {
			case a.Required && (err == nil || !strings.Contains(err.Error(), `"`+a.Name+`" is required`)):
				t.Errorf("%s is declared required, but a configuration without it gives %v", a.Name, err)
			case !a.Required && err != nil:
				t.Errorf("%s is declared optional, but a configuration without it is refused: %v", a.Name, err)
			}
		})
	}
}
