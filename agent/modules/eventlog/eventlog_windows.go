package eventlog

import "context"

// Read reads the events of channel ("Security", "System", ...) that came
// after cursor, or those of the last opts.FirstWindow when cursor has no
// position, through wevtapi.dll. It checks the cursor against the log
// first (a cleared log resets it, an overwritten stretch is counted in
// Lost), reads at most opts.Max events oldest first, and returns the
// cursor for the next round. Errors wrap ErrAccessDenied or
// ErrChannelNotFound where they apply; on other systems Read returns an
// *UnsupportedError.
func Read(ctx context.Context, channel string, cursor Cursor, opts Options) (Result, error) {
	api, err := loadWevtapi()
	if err != nil {
		return Result{}, err
	}
	return read(ctx, api, channel, cursor, opts)
}
