package convert

import (
	schemav1 "github.com/cscs-dev/cscs/sdk/proto/schema/v1"
	"github.com/cscs-dev/cscs/sdk/schema"
)

// Schema returns s on the wire, or nil when it declares no attributes.
func Schema(s schema.Schema) *schemav1.Schema {
	if len(s.Attributes) == 0 {
		return nil
	}
	ps := &schemav1.Schema{Attributes: make([]*schemav1.Attribute, len(s.Attributes))}
	for i, a := range s.Attributes {
		ps.Attributes[i] = &schemav1.Attribute{
			Name:        a.Name,
			Type:        string(a.Type),
			Required:    a.Required,
			Sensitive:   a.Sensitive,
			Description: a.Description,
		}
	}
	return ps
}

// FromSchema returns the schema ps carries; nil (what a plugin built
// before schemas sends) is the empty schema, with nil Attributes. A type
// this SDK does not know is kept as it came, for Validate to name.
func FromSchema(ps *schemav1.Schema) schema.Schema {
	attrs := ps.GetAttributes()
	if len(attrs) == 0 {
		return schema.Schema{}
	}
	s := schema.Schema{Attributes: make([]schema.Attribute, len(attrs))}
	for i, pa := range attrs {
		s.Attributes[i] = schema.Attribute{
			Name:        pa.GetName(),
			Type:        schema.Type(pa.GetType()),
			Required:    pa.GetRequired(),
			Sensitive:   pa.GetSensitive(),
			Description: pa.GetDescription(),
		}
	}
	return s
}
