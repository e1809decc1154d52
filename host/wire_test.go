package host

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

func pair(t testing.TB) (*Conn, *Conn) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, err := ConnFromFile(os.NewFile(uintptr(fds[0]), "a"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := ConnFromFile(os.NewFile(uintptr(fds[1]), "b"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func TestFramesRoundTrip(t *testing.T) {
	a, b := pair(t)
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB: larger than any socket buffer
	sizes := [][]byte{nil, []byte("x"), bytes.Repeat([]byte{7}, 32<<10), big}
	go func() {
		for i, p := range sizes {
			if err := a.Write(KindOK, uint32(i+1), p); err != nil {
				t.Error(err)
			}
		}
	}()
	for i, want := range sizes {
		f, err := b.Read()
		if err != nil {
			t.Fatal(err)
		}
		if f.Kind != KindOK || f.ID != uint32(i+1) || !bytes.Equal(f.Payload, want) {
			t.Fatalf("frame %d: kind %v id %d len %d, want len %d", i, f.Kind, f.ID, len(f.Payload), len(want))
		}
	}
}

// A frame written in parts arrives as one payload, small or large, with
// empty parts and with descriptors.
func TestFramesInParts(t *testing.T) {
	a, b := pair(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<18)
	cases := []struct {
		parts [][]byte
		files []*os.File
	}{
		{parts: [][]byte{}},
		{parts: [][]byte{[]byte("ab"), nil, []byte("c")}},
		{parts: [][]byte{[]byte("head"), big, nil, []byte("mid"), big[:40<<10], []byte("tail")}},
		{parts: [][]byte{big[:50<<10], []byte("x")}, files: []*os.File{r}},
	}
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		for i, c := range cases {
			if err := a.WriteParts(KindOK, uint32(i+1), c.parts, c.files...); err != nil {
				t.Error(err)
			}
		}
	}()
	defer func() { <-wrote }() // before the pipe is closed
	for i, c := range cases {
		f, err := b.Read()
		if err != nil {
			t.Fatal(err)
		}
		want := bytes.Join(c.parts, nil)
		if f.Kind != KindOK || f.ID != uint32(i+1) || !bytes.Equal(f.Payload, want) || len(f.Files) != len(c.files) {
			t.Fatalf("frame %d: kind %v id %d len %d files %d, want len %d files %d", i, f.Kind, f.ID, len(f.Payload), len(f.Files), len(want), len(c.files))
		}
		closeFiles(f.Files)
	}
}

// Descriptors travel with their frame, in order, even among plain frames.
func TestFramesCarryFiles(t *testing.T) {
	a, b := pair(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	go func() {
		a.Write(KindOK, 1, []byte("before"))
		a.Write(KindRun, 2, []byte("with a pipe"), w)
		a.Write(KindOK, 3, []byte("after"))
	}()
	for id := uint32(1); id <= 3; id++ {
		f, err := b.Read()
		if err != nil {
			t.Fatal(err)
		}
		if f.ID != id {
			t.Fatalf("got id %d, want %d", f.ID, id)
		}
		if id != 2 {
			if len(f.Files) != 0 {
				t.Fatalf("frame %d carries %d files", id, len(f.Files))
			}
			continue
		}
		if len(f.Files) != 1 {
			t.Fatalf("frame 2 carries %d files, want 1", len(f.Files))
		}
		if _, err := f.Files[0].Write([]byte("hi")); err != nil {
			t.Fatal(err)
		}
		f.Files[0].Close()
		buf := make([]byte, 2)
		if _, err := io.ReadFull(r, buf); err != nil || string(buf) != "hi" {
			t.Fatalf("read through passed pipe: %q %v", buf, err)
		}
	}
}

func rawFrame(size uint32, kind Kind, nfds byte, id uint32, payload []byte) []byte {
	b := binary.LittleEndian.AppendUint32(nil, size)
	b = append(b, byte(kind), nfds)
	b = binary.LittleEndian.AppendUint32(b, id)
	return append(b, payload...)
}

// A malformed stream is an error, never a panic or a huge allocation.
func TestMalformedFrames(t *testing.T) {
	cases := map[string][]byte{
		"size below header":   rawFrame(2, KindOK, 0, 1, nil),
		"size over the limit": rawFrame(MaxFrame+headerSize, KindOK, 0, 1, nil),
		"missing descriptors": rawFrame(6, KindOK, 3, 1, nil),
		"truncated payload":   rawFrame(100, KindOK, 0, 1, []byte("short")),
		"truncated header":    {1, 2, 3},
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			a, b := pair(t)
			go func() { a.uc.Write(data); a.uc.CloseWrite() }()
			if _, err := b.Read(); err == nil {
				t.Fatal("no error")
			} else if errors.Is(err, io.EOF) {
				t.Fatalf("plain EOF for a malformed frame: %v", err)
			}
		})
	}
}

// FuzzFrame feeds arbitrary bytes to the frame reader: it must return frames
// or an error, never panic, and never allocate more than the input justifies.
func FuzzFrame(f *testing.F) {
	f.Add(rawFrame(6, KindHello, 0, 0, nil))
	f.Add(rawFrame(9, KindOK, 0, 7, []byte("abc")))
	f.Add(append(rawFrame(6, KindOK, 0, 1, nil), rawFrame(7, KindErr, 0, 2, []byte{1})...))
	f.Add(rawFrame(0xffffffff, KindOK, 0, 1, nil))
	f.Add(rawFrame(6, KindOK, 200, 1, nil))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Skip(err)
		}
		w := os.NewFile(uintptr(fds[0]), "w")
		rc, err := net.FileConn(os.NewFile(uintptr(fds[1]), "r"))
		if err != nil {
			t.Fatal(err)
		}
		c := NewConn(rc.(*net.UnixConn))
		defer c.Close()
		go func() { w.Write(data); w.Close() }()
		total := 0
		for {
			fr, err := c.Read()
			if err != nil {
				break
			}
			total += len(fr.Payload) + headerSize
			if total > len(data) {
				t.Fatalf("read %d bytes of frames from %d bytes of input", total, len(data))
			}
		}
	})
}

func TestMessages(t *testing.T) {
	spec := RunSpec{Self: ProcInfo{ID: 3, Pid: 99, Name: "Process-3", Daemon: true}, Parent: ProcInfo{Name: "MainProcess"}, Payload: []byte{1, 2, 3}}
	got, err := decodeRunSpec(encodeRunSpec(spec))
	if err != nil || got.Self != spec.Self || got.Parent != spec.Parent || !bytes.Equal(got.Payload, spec.Payload) {
		t.Fatalf("run spec round trip: %+v %v", got, err)
	}
	if _, err := decodeRunSpec(encodeRunSpec(spec)[:5]); err == nil {
		t.Fatal("truncated run spec decoded")
	}
	start := StartSpec{Name: "worker", Daemon: true, Payload: []byte{7}, Pins: []uint64{5, 1 << 40, 5}}
	gs, err := decodeStartSpec(encodeStartSpec(start))
	if err != nil || gs.Name != start.Name || !gs.Daemon || !bytes.Equal(gs.Payload, start.Payload) || fmt.Sprint(gs.Pins) != fmt.Sprint(start.Pins) {
		t.Fatalf("start spec round trip: %+v %v", gs, err)
	}
	b := encodeStartSpec(start)
	for n := range len(b) {
		if _, err := decodeStartSpec(b[:n]); err == nil {
			t.Fatalf("start spec cut to %d of %d bytes decoded", n, len(b))
		}
	}
	huge := (&Enc{}).String("w").Bool(false).Bytes(nil).Uint(1 << 60).B
	if _, err := decodeStartSpec(huge); err == nil {
		t.Fatal("a start spec claiming 2^60 pins decoded")
	}
	if _, err := decodeStatus(append(encodeStatus(Status{Done: true, ExitCode: -9}), 0)); err == nil {
		t.Fatal("trailing bytes accepted")
	}
	d := Dec{B: (&Enc{}).Uint(1 << 40).B}
	if d.Bytes(); d.Err == nil {
		t.Fatal("a length larger than the message was accepted")
	}
}

// The descriptors of a frame that never completes (its writer died in the
// middle) are closed when Read reports the end, not leaked.
func TestCutFrameClosesItsFiles(t *testing.T) {
	a, b := pair(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	h := a.header(KindOK, 1, 100, 1)
	if _, _, err := a.uc.WriteMsgUnix(append(h, "only part"...), unix.UnixRights(int(r.Fd())), nil); err != nil {
		t.Fatal(err)
	}
	r.Close()
	a.Close()
	if _, err := b.Read(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("read a cut frame: %v, want unexpected EOF", err)
	}
	// With the last read end closed, writing to the pipe fails.
	if _, err := w.Write([]byte("x")); !errors.Is(err, unix.EPIPE) {
		t.Fatalf("write to the pipe whose read end traveled in the cut frame: %v, want EPIPE (the reader leaked it)", err)
	}
}
