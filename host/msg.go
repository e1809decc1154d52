package host

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Kind names what a frame carries.
type Kind uint8

// Frame kinds. Requests from a child carry a non-zero id and get exactly one
// reply with that id: KindOK, KindErr or a kind-specific answer.
const (
	KindHello  Kind = iota + 1 // child → host: booted and waiting for work
	KindRun                    // host → child: run this target (RunSpec)
	KindOK                     // reply: done, payload is kind-specific
	KindErr                    // reply: failed, payload is ErrorReply
	KindStart                  // child → host: start a process (StartSpec)
	KindJoin                   // child → host: wait for a process (id, timeout)
	KindSignal                 // child → host: signal a process (id, signal)
	KindActive                 // child → host: list my live children
)

func (k Kind) String() string {
	names := [...]string{"", "hello", "run", "ok", "err", "start", "join", "signal", "active"}
	if int(k) < len(names) && k != 0 {
		return names[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Enc appends the fields of a control message to a byte slice.
type Enc struct{ B []byte }

// Uint appends an unsigned varint.
func (e *Enc) Uint(v uint64) *Enc { e.B = binary.AppendUvarint(e.B, v); return e }

// Int appends a signed varint.
func (e *Enc) Int(v int64) *Enc { e.B = binary.AppendVarint(e.B, v); return e }

// Bool appends one byte, 0 or 1.
func (e *Enc) Bool(v bool) *Enc {
	if v {
		e.B = append(e.B, 1)
	} else {
		e.B = append(e.B, 0)
	}
	return e
}

// Float appends a float64.
func (e *Enc) Float(v float64) *Enc {
	e.B = binary.LittleEndian.AppendUint64(e.B, math.Float64bits(v))
	return e
}

// Bytes appends a length-prefixed byte string.
func (e *Enc) Bytes(b []byte) *Enc { e.Uint(uint64(len(b))); e.B = append(e.B, b...); return e }

// String appends a length-prefixed string.
func (e *Enc) String(s string) *Enc { e.Uint(uint64(len(s))); e.B = append(e.B, s...); return e }

// Dec reads the fields of a control message. The first malformed field sets
// Err; later reads return zero values, so callers check Err once at the end.
type Dec struct {
	B   []byte
	Err error
}

var errShort = errors.New("message truncated")

func (d *Dec) fail(err error) {
	if d.Err == nil {
		d.Err = err
	}
	d.B = nil
}

// Uint reads an unsigned varint.
func (d *Dec) Uint() uint64 {
	v, n := binary.Uvarint(d.B)
	if n <= 0 {
		d.fail(errShort)
		return 0
	}
	d.B = d.B[n:]
	return v
}

// Int reads a signed varint.
func (d *Dec) Int() int64 {
	v, n := binary.Varint(d.B)
	if n <= 0 {
		d.fail(errShort)
		return 0
	}
	d.B = d.B[n:]
	return v
}

// Bool reads one byte.
func (d *Dec) Bool() bool {
	if len(d.B) < 1 {
		d.fail(errShort)
		return false
	}
	v := d.B[0]
	d.B = d.B[1:]
	return v != 0
}

// Float reads a float64.
func (d *Dec) Float() float64 {
	if len(d.B) < 8 {
		d.fail(errShort)
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(d.B))
	d.B = d.B[8:]
	return v
}

// Bytes reads a length-prefixed byte string (a sub-slice, not a copy).
func (d *Dec) Bytes() []byte {
	n := d.Uint()
	if d.Err != nil {
		return nil
	}
	if n > uint64(len(d.B)) {
		d.fail(errShort)
		return nil
	}
	b := d.B[:n:n]
	d.B = d.B[n:]
	return b
}

// String reads a length-prefixed string.
func (d *Dec) String() string { return string(d.Bytes()) }

// Done reports the first error, or an error if bytes are left over.
func (d *Dec) Done() error {
	if d.Err == nil && len(d.B) > 0 {
		d.Err = fmt.Errorf("%d unexpected trailing bytes", len(d.B))
	}
	return d.Err
}
