package overlay

import (
	"io"

	"github.com/hashicorp/hcl/v2"
)

// WriteDiagnostics prints diags in HCL's format: file:line:column, the
// summary and detail, and the source lines with the place underlined.
func (ov *Overlay) WriteDiagnostics(w io.Writer, diags hcl.Diagnostics, width uint, color bool) error {
	return hcl.NewDiagnosticTextWriter(w, ov.sources, width, color).WriteDiagnostics(diags)
}
