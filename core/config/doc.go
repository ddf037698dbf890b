// Package config loads and validates the operator's configuration:
// config.xml (the inventory of clients and their alert rules, see
// LoadInventory) and email_config.json (the SMTP sender, see LoadEmail).
//
// # config.xml
//
// The root element is <clients>; it holds one <client> element per host,
// each with <alert> children:
//
//	<clients>
//	  <client ip="192.0.2.10" port="22" username="collector"
//	          password="env:CSCS_PASSWORD" mail="ops@example.com">
//	    <alert type="memory" limit="50%"/>
//	    <alert type="cpu" limit="20%"/>
//	  </client>
//	</clients>
//
// The original requirements show bare <client> elements without a root and
// with typographic quotes around values (ip=’192.0.2.10’). Such a file
// loads, with a Warning for each, so that an operator pasting the sample
// gets a working load and is told what to change.
//
// # Secrets
//
// Passwords are Secret values. An operator writes them in plain text, as
// env:NAME (read from the environment) or as file:PATH (read from a file,
// relative to the configuration file). A Secret prints as a mask through
// every fmt verb, JSON and slog; only Reveal returns the value.
//
// # Diagnostics
//
// Every problem is a Diagnostic naming the file, line, column and field,
// with a fix where one can be said:
//
//	config.xml:3:12: error: client 127.0.0.2 attribute port: "70000" is not a port number (1-65535); fix: write a number such as 22, or leave the attribute out for 22
//
// Positions point at the attribute or JSON key itself when there is one,
// else at the element. Columns count characters, as editors do. Loaders
// return nil with Diagnostics that hold an Error; Warnings come with a
// usable result.
package config
