package bindings

import (
	"fmt"
	"os"

	"github.com/dop251/goja"

	"mpjs/host"
)

// shared is the Go half of an mp object that crosses processes by reference
// (a queue, a pipe end, a lock, shared memory): what it encodes to is enough
// to re-create the same object in another process.
type shared interface {
	// handleKind names the decoder that re-creates it ("queue", "conn", ...).
	handleKind() string
	// encodeHandle returns the payload and the descriptors that travel with it.
	encodeHandle() (payload []byte, files []*os.File, err error)
}

// handleDecoder re-creates an object from a payload and its descriptors (which
// it owns from then on).
type handleDecoder func(payload []byte, files []*os.File) (goja.Value, error)

// EncodeHandle implements codec.Handles: objects whose Go half is shared
// cross by reference. Their descriptors are collected on the side, for the
// frame that carries the encoding.
func (m *Module) EncodeHandle(obj *goja.Object) (string, []byte, bool, error) {
	v := obj.GetSymbol(m.state)
	if v == nil {
		return "", nil, false, nil
	}
	sh, ok := v.Export().(shared)
	if !ok {
		return "", nil, false, fmt.Errorf("%s cannot be sent to another process", v.Export())
	}
	payload, files, err := sh.encodeHandle()
	if err != nil {
		return "", nil, false, err
	}
	// The payload is prefixed with where its descriptors start in the list.
	prefixed := append([]byte{byte(len(m.outFiles)), byte(len(files))}, payload...)
	m.outFiles = append(m.outFiles, files...)
	return sh.handleKind(), prefixed, true, nil
}

// DecodeHandle implements codec.Handles.
func (m *Module) DecodeHandle(_ *goja.Runtime, kind string, payload []byte) (goja.Value, error) {
	m.build() // a shared object arriving in a child needs its class
	dec := m.decoders[kind]
	if dec == nil {
		return nil, fmt.Errorf("unknown kind of shared object %q", kind)
	}
	if len(payload) < 2 {
		return nil, fmt.Errorf("%s handle: truncated", kind)
	}
	first, n := int(payload[0]), int(payload[1])
	if first+n > len(m.inFiles) {
		return nil, fmt.Errorf("%s handle: refers to descriptors %d..%d, %d arrived", kind, first, first+n, len(m.inFiles))
	}
	files := make([]*os.File, n)
	for i := range files {
		files[i] = m.inFiles[first+i]
		m.inFiles[first+i] = nil // taken
	}
	return dec(payload[2:], files)
}

// encode encodes v for another process and returns the descriptors that must
// travel with it. root names v in errors.
func (m *Module) encode(v goja.Value, root string) ([]byte, []*os.File, error) {
	b, files, pins, err := m.encodeUnpinned(v, root)
	if err == nil {
		err = pinAll(pins)
	}
	if err != nil {
		return nil, nil, err
	}
	return b, files, nil
}

// encodeUnpinned is encode leaving the pinning of the shared objects met to
// the caller: a process start hands them to the host with the start.
func (m *Module) encodeUnpinned(v goja.Value, root string) ([]byte, []*os.File, []*host.Obj, error) {
	m.beginEncode()
	b, err := m.rt.EncodeValue(v, root)
	files, pins := m.endEncode(err)
	if err != nil {
		return nil, nil, nil, err
	}
	return b, files, pins, nil
}

// beginEncode and endEncode bracket an encode: the handles it meets add
// their descriptors to outFiles and their shared objects to outPins (see
// sendPin). endEncode returns both, or nothing when the encode failed: a
// value that cannot be sent pins nothing.
func (m *Module) beginEncode() {
	m.outFiles, m.outPins = m.outFiles[:0], m.outPins[:0]
}

func (m *Module) endEncode(err error) ([]*os.File, []*host.Obj) {
	files, pins := m.outFiles, m.outPins
	m.outFiles, m.outPins = nil, nil
	if err != nil {
		return nil, nil
	}
	return files, pins
}

// sendPin records that the encode in progress sends o: the host must keep
// it alive until the receiver has it.
func (m *Module) sendPin(o *host.Obj) { m.outPins = append(m.outPins, o) }

// pinAll tells the host that the objects are on their way (a queue item, a
// pipe message, a pool task): each stays alive until a receiver has it.
func pinAll(pins []*host.Obj) error {
	for _, o := range pins {
		if err := o.Pin(); err != nil {
			return err
		}
	}
	return nil
}

// decode decodes what encode made, taking ownership of files; descriptors no
// handle claimed are closed.
func (m *Module) decode(b []byte, files []*os.File) (goja.Value, error) {
	m.inFiles = files
	v, err := m.rt.DecodeValue(b)
	for _, f := range m.inFiles {
		if f != nil {
			f.Close()
		}
	}
	m.inFiles = nil
	return v, err
}
