package bindings

import (
	"errors"
	"strings"

	"mpjs/runtime"
)

// rewritePath turns a codec path inside a start() bundle ("$.args[1].cb")
// into the user's terms ("args[1].cb").
func rewritePath(err error) error {
	var ce *runtime.CaptureError
	if !errors.As(err, &ce) {
		return err
	}
	msg := ce.Msg
	for _, r := range []struct{ from, to string }{
		{"$.args", "args"},
		{"$.fields", "this"},
		{"$.fn.values", "a top-level variable the target uses"},
		{"$.cls.values", "a top-level variable the class uses"},
	} {
		if strings.HasPrefix(msg, r.from) {
			msg = r.to + msg[len(r.from):]
			break
		}
	}
	return &runtime.CaptureError{Msg: msg}
}
