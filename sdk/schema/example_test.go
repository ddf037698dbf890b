package schema_test

import (
	"fmt"

	"github.com/cscs-dev/cscs/sdk/schema"
)

// A notifier that posts to a URL declares the keys of its JSON
// configuration; the core checks an operator's block against it.
func ExampleSchema() {
	s := schema.Schema{Attributes: []schema.Attribute{
		{Name: "url", Type: schema.String, Required: true, Sensitive: true, Description: "address that receives one POST per notification"},
		{Name: "timeout", Type: schema.Duration, Description: `bound of one delivery, such as "5s"`},
		{Name: "headers", Type: schema.MapOfString, Sensitive: true, Description: "headers added to every request"},
	}}
	if err := s.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	a, _ := s.Lookup("timeout")
	fmt.Println(s.Names(), a.Type)

	bad := schema.Schema{Attributes: []schema.Attribute{{Name: "maxEvents", Type: "int"}}}
	fmt.Println(bad.Validate())
	// Output:
	// [url timeout headers] duration
	// configuration schema: attribute 1 ("maxEvents"): the name must be lower_snake_case (a-z, 0-9 and _, starting with a letter), such as "max_events"
	// attribute 1 ("maxEvents"): type "int" is unknown; use one of "string", "number", "bool", "duration", "list(string)", "list(number)", "map(string)"
}
