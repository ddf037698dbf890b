package config

// Config is the loaded inventory from config.xml.
type Config struct {
	// Path is the file the inventory was read from.
	Path    string
	Clients []Client
}

// Client is one <client> element: a host to collect from.
type Client struct {
	IP       string
	Port     int // defaults to 22
	Username string
	// Password may be empty when key or ssh-agent authentication is used.
	Password Secret
	// Key is an optional path to a private key file (attribute "key"),
	// resolved against the directory of config.xml (~/ is the home
	// directory). The loader checks that it exists but does not read it.
	Key string
	// Mail is the address alerts and event logs for this client go to.
	Mail   string
	Alerts []Alert
	// Pos is where the <client> element starts.
	Pos Pos
}

// DownAlertType is the built-in alert type of a host that fails rounds in
// a row: <alert type="down" limit="5"/> (or limit="off"). No source
// declares it; core/alert reads its limit.
const DownAlertType = "down"

// Alert is one <alert type limit> rule of a client.
type Alert struct {
	Type  string // e.g. "memory", "cpu"
	Limit string // as written, e.g. "50%"
	// For is how many rounds in a row the limit must be broken before the
	// alert fires (attribute for; 0 when not given: at once).
	For int
	Pos Pos
	// LimitReported is set, only in a Config that ReadInventory returns
	// with errors, on an alert whose limit is missing or not a limit: that
	// error is reported, and the alert is kept so that its type can still
	// be checked against the alert types the sources declare.
	LimitReported bool
}

// Email is the SMTP sender from email_config.json.
type Email struct {
	Path     string
	Host     string
	Port     int
	Username string
	Password Secret
	From     string
	// Security is "none", "starttls" or "tls".
	Security string
}

// Pos is a position in a configuration file (1-based line and column).
type Pos struct {
	File string
	Line int
	Col  int
}
