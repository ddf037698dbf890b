// Package names holds the SDK's one rule for names: lower_snake_case, for
// schema attributes and metric labels alike. It imports nothing: the agent
// links it.
package names

// IsSnakeCase reports whether name is lower_snake_case: a lowercase ASCII
// letter, then lowercase letters, digits and underscores.
func IsSnakeCase(name string) bool {
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z':
		case i > 0 && (c >= '0' && c <= '9' || c == '_'):
		default:
			return false
		}
	}
	return name != ""
}
