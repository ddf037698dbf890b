package eventlog

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Flags of the Windows Event Log API (winevt.h).
const (
	evtQueryChannelPath      = 0x1
	evtQueryForwardDirection = 0x100
	evtQueryReverseDirection = 0x200
	evtRenderEventXML        = 1
)

const (
	// nextBatch is how many event handles one EvtNext asks for; it is
	// halved when a Windows version refuses a large batch.
	nextBatch = 64
	// maxRenderBytes refuses to render an event whose XML is larger (in
	// UTF-16 bytes); the parser keeps only MaxEventXMLBytes anyway.
	maxRenderBytes = 4 << 20
)

// wevtapi holds the procedures of wevtapi.dll that Read uses.
type wevtapi struct {
	evtQuery, evtNext, evtRender, evtClose *windows.LazyProc
}

// loadWevtapi loads wevtapi.dll from the system directory.
func loadWevtapi() (*wevtapi, error) {
	dll := windows.NewLazySystemDLL("wevtapi.dll")
	if err := dll.Load(); err != nil {
		return nil, fmt.Errorf("load the Windows Event Log API (wevtapi.dll): %w", err)
	}
	api := &wevtapi{
		evtQuery:  dll.NewProc("EvtQuery"),
		evtNext:   dll.NewProc("EvtNext"),
		evtRender: dll.NewProc("EvtRender"),
		evtClose:  dll.NewProc("EvtClose"),
	}
	for _, p := range []*windows.LazyProc{api.evtQuery, api.evtNext, api.evtRender, api.evtClose} {
		if err := p.Find(); err != nil {
			return nil, fmt.Errorf("load the Windows Event Log API: %w", err)
		}
	}
	return api, nil
}

// query implements querier with EvtQuery, EvtNext, EvtRender and EvtClose.
func (a *wevtapi) query(ctx context.Context, channel, xpath string, reverse bool, render, count int) ([][]byte, int, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	path, err := windows.UTF16PtrFromString(channel)
	if err != nil {
		return nil, 0, fmt.Errorf("event log channel name %q: %w", channel, err)
	}
	xq, err := windows.UTF16PtrFromString(xpath)
	if err != nil {
		return nil, 0, fmt.Errorf("event log query %q: %w", xpath, err)
	}
	flags := uintptr(evtQueryChannelPath | evtQueryForwardDirection)
	if reverse {
		flags = evtQueryChannelPath | evtQueryReverseDirection
	}
	results, _, callErr := a.evtQuery.Call(0, uintptr(unsafe.Pointer(path)), uintptr(unsafe.Pointer(xq)), flags)
	if results == 0 { // judge by the handle: errno may be 0 (seen under Wine)
		return nil, 0, queryError(channel, xpath, callErr)
	}
	defer a.evtClose.Call(results)

	var records [][]byte
	more := 0
	buf := make([]uint16, 8<<10)
	handles := make([]uintptr, nextBatch)
	batch := nextBatch
	for len(records) < render || more < count {
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		want := min(batch, render-len(records)+count-more)
		var returned uint32
		ok, _, callErr := a.evtNext.Call(results, uintptr(want), uintptr(unsafe.Pointer(&handles[0])),
			timeoutMillis(ctx), 0, uintptr(unsafe.Pointer(&returned)))
		if ok == 0 {
			switch errno(callErr) {
			case windows.ERROR_NO_MORE_ITEMS:
				return records, more, nil
			case windows.RPC_S_INVALID_BOUND:
				if want > 1 {
					batch = want / 2
					continue
				}
			}
			return nil, 0, nextError(ctx, channel, callErr)
		}
		if returned == 0 {
			return records, more, nil
		}
		for _, event := range handles[:min(int(returned), want)] {
			switch {
			case len(records) < render:
				// A record that cannot be rendered stays nil: the
				// parser refuses it and Read counts it as skipped.
				xml, _ := a.renderXML(event, &buf)
				records = append(records, xml)
			case more < count:
				more++
			}
			a.evtClose.Call(event)
		}
	}
	return records, more, nil
}

// renderXML renders one event as XML, growing buf when it is too small.
func (a *wevtapi) renderXML(event uintptr, buf *[]uint16) ([]byte, error) {
	for range 2 {
		b := *buf
		var used, props uint32
		ok, _, callErr := a.evtRender.Call(0, event, evtRenderEventXML, uintptr(len(b)*2),
			uintptr(unsafe.Pointer(&b[0])), uintptr(unsafe.Pointer(&used)), uintptr(unsafe.Pointer(&props)))
		if ok != 0 {
			return []byte(windows.UTF16ToString(b[:min(int(used)/2, len(b))])), nil
		}
		if errno(callErr) != windows.ERROR_INSUFFICIENT_BUFFER || used == 0 {
			return nil, fmt.Errorf("render an event as XML: %w", callErr)
		}
		if used > maxRenderBytes {
			return nil, fmt.Errorf("render an event as XML: it takes %d bytes, more than %d", used, maxRenderBytes)
		}
		*buf = make([]uint16, (used+1)/2)
	}
	return nil, errors.New("render an event as XML: the size it asked for was not enough")
}

// timeoutMillis is the EvtNext timeout: what is left of ctx's deadline.
func timeoutMillis(ctx context.Context) uintptr {
	deadline, ok := ctx.Deadline()
	if !ok {
		return windows.INFINITE
	}
	ms := time.Until(deadline).Milliseconds()
	return uintptr(min(max(ms, 1), windows.INFINITE-1))
}

// queryError explains an EvtQuery failure.
func queryError(channel, xpath string, err error) error {
	switch errno(err) {
	case windows.ERROR_ACCESS_DENIED:
		return fmt.Errorf("the account cannot read the %s log: %w", channel, ErrAccessDenied)
	case windows.ERROR_EVT_CHANNEL_NOT_FOUND, windows.ERROR_EVT_INVALID_CHANNEL_PATH:
		return fmt.Errorf("open the %s log: %w", channel, ErrChannelNotFound)
	case windows.ERROR_EVT_INVALID_QUERY:
		return fmt.Errorf("the event log refused the query %s on the %s log: %w", xpath, channel, err)
	case 0:
		return fmt.Errorf("query the %s log: EvtQuery failed without an error code", channel)
	}
	return fmt.Errorf("query the %s log: %w", channel, err)
}

// nextError explains an EvtNext failure.
func nextError(ctx context.Context, channel string, err error) error {
	switch errno(err) {
	case windows.ERROR_TIMEOUT:
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("read the %s log: %w", channel, ctxErr)
		}
		return fmt.Errorf("read the %s log: timed out: %w", channel, context.DeadlineExceeded)
	case windows.ERROR_EVT_QUERY_RESULT_STALE:
		return fmt.Errorf("read the %s log: it was cleared or overwritten while being read; the next round starts over: %w", channel, err)
	case windows.ERROR_ACCESS_DENIED:
		return fmt.Errorf("the account cannot read the %s log: %w", channel, ErrAccessDenied)
	}
	return fmt.Errorf("read the %s log: %w", channel, err)
}

// errno extracts the Windows error code from a LazyProc.Call error.
func errno(err error) windows.Errno {
	var e windows.Errno
	errors.As(err, &e)
	return e
}
