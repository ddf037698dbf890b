package convert

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrUnavailable is wrapped by errors that mean the plugin could not be
// reached at all (it exited or its connection broke).
var ErrUnavailable = errors.New("plugin unavailable")

// ToStatus turns an error a plugin implementation returned into the gRPC
// status its server answers with. The message is the error's text; context
// errors keep their meaning.
func ToStatus(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	}
	return status.Error(codes.Unknown, err.Error())
}

// remoteError is an error that came back from a plugin over gRPC. Its text
// is the plugin's message alone; it unwraps to the context error or to
// ErrUnavailable when the status says so.
type remoteError struct {
	message string
	cause   error
}

func (e *remoteError) Error() string { return e.message }
func (e *remoteError) Unwrap() error { return e.cause }

// FromStatus turns an error a gRPC client call returned into a Go error
// whose text is the plugin's message. A deadline or cancellation unwraps to
// context.DeadlineExceeded or context.Canceled, a lost connection to
// ErrUnavailable, so that callers can test them with errors.Is.
func FromStatus(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	e := &remoteError{message: st.Message()}
	switch st.Code() {
	case codes.DeadlineExceeded:
		e.cause = context.DeadlineExceeded
	case codes.Canceled:
		e.cause = context.Canceled
	case codes.Unavailable:
		e.cause = ErrUnavailable
		e.message = "plugin unavailable: " + st.Message()
	}
	if e.message == "" {
		e.message = st.Code().String()
	}
	return e
}

// Reply is what a server method answers: resp when the implementation's
// err is nil, else no response and the status err maps to (ToStatus).
func Reply[R any](resp R, err error) (R, error) {
	if err != nil {
		var none R
		return none, ToStatus(err)
	}
	return resp, nil
}

// Result is what a client method returns: v when the call's err is nil,
// else the zero value and the plugin's error (FromStatus). v may be built
// from the response of a failed call: protobuf getters read a nil
// response as empty.
func Result[T any](v T, err error) (T, error) {
	if err != nil {
		var zero T
		return zero, FromStatus(err)
	}
	return v, nil
}

// Unsupported is the status a server answers for an optional capability
// (a Decoder, a Migrator) its implementation lacks; its message is err's
// text. The client sees it with IsUnimplemented.
func Unsupported(err error) error {
	return status.Error(codes.Unimplemented, err.Error())
}

// IsUnimplemented reports whether err is the status a server answers for a
// method it does not implement.
func IsUnimplemented(err error) bool {
	return status.Code(err) == codes.Unimplemented
}
