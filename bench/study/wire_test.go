package study

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestFrameRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    Frame
	}{
		{name: "request", f: Frame{Kind: Request, ID: 1<<32 | 7, Work: 20, Wait: 5000, Payload: []byte("hello")}},
		{name: "empty reply", f: Frame{Kind: Reply, ID: 9}},
		{name: "call", f: Frame{Kind: Call, ID: ^uint64(0), Wait: ^uint32(0)}},
		{name: "result", f: Frame{Kind: Result, ID: 3}},
		{name: "large payload", f: Frame{Kind: Request, Payload: bytes.Repeat([]byte{0xAB}, 70000)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := AppendFrame([]byte("prefix"), tc.f)
			if len(b) != len("prefix")+HeaderSize+len(tc.f.Payload) {
				t.Fatalf("encoded %d bytes, want %d", len(b), len("prefix")+HeaderSize+len(tc.f.Payload))
			}
			got, err := ReadFrame(bytes.NewReader(b[len("prefix"):]), make([]byte, 0, 64))
			if err != nil {
				t.Fatal(err)
			}
			if got.Kind != tc.f.Kind || got.ID != tc.f.ID || got.Work != tc.f.Work || got.Wait != tc.f.Wait ||
				!bytes.Equal(got.Payload, tc.f.Payload) {
				t.Errorf("read %+v, want %+v", got, tc.f)
			}
		})
	}
}

func TestReadFrameErrors(t *testing.T) {
	good := AppendFrame(nil, Frame{Kind: Request, ID: 1, Payload: []byte("abc")})
	badKind := bytes.Clone(good)
	badKind[0] = 9
	zeroKind := bytes.Clone(good)
	zeroKind[0] = 0
	huge := bytes.Clone(good[:HeaderSize])
	huge[17], huge[18], huge[19], huge[20] = 0xff, 0xff, 0xff, 0xff
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{name: "empty", in: nil, want: io.EOF},
		{name: "short header", in: good[:10], want: io.ErrUnexpectedEOF},
		{name: "short payload", in: good[:len(good)-1], want: io.ErrUnexpectedEOF},
		{name: "header only", in: good[:HeaderSize], want: io.ErrUnexpectedEOF},
		{name: "unknown kind", in: badKind, want: ErrFrame},
		{name: "kind zero", in: zeroKind, want: ErrFrame},
		{name: "payload over the limit", in: huge, want: ErrFrame},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadFrame(bytes.NewReader(tc.in), nil)
			if !errors.Is(err, tc.want) {
				t.Errorf("ReadFrame = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestReadFrameReusesBuffer(t *testing.T) {
	buf := make([]byte, 0, 16)
	f, err := ReadFrame(bytes.NewReader(AppendFrame(nil, Frame{Kind: Reply, Payload: []byte("abc")})), buf)
	if err != nil {
		t.Fatal(err)
	}
	if &f.Payload[0] != &buf[:1][0] {
		t.Error("a payload that fits buf was not read into it")
	}
}

func TestAppendFrameRefusesHugePayload(t *testing.T) {
	defer func() {
		if err, _ := recover().(error); !errors.Is(err, ErrFrame) {
			t.Errorf("AppendFrame of %d bytes panicked with %v, want ErrFrame", MaxPayload+1, err)
		}
	}()
	AppendFrame(nil, Frame{Kind: Request, Payload: make([]byte, MaxPayload+1)})
}

// FuzzReadFrame feeds ReadFrame arbitrary streams: it must never panic,
// and every frame it accepts must encode back to the bytes it consumed.
func FuzzReadFrame(f *testing.F) {
	f.Add(AppendFrame(nil, Frame{Kind: Request, ID: 1, Work: 2, Wait: 3, Payload: []byte("x")}))
	f.Add(AppendFrame(AppendFrame(nil, Frame{Kind: Call, ID: 5}), Frame{Kind: Result, ID: 5}))
	f.Add([]byte{})
	f.Add([]byte{2, 0, 0})
	f.Add(bytes.Repeat([]byte{0xff}, HeaderSize))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bufio.NewReader(bytes.NewReader(in))
		consumed := 0
		for {
			fr, err := ReadFrame(r, nil)
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, ErrFrame) {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			enc := AppendFrame(nil, fr)
			if !bytes.Equal(enc, in[consumed:consumed+len(enc)]) {
				t.Fatalf("frame %+v re-encodes to %x, read from %x", fr, enc, in[consumed:consumed+len(enc)])
			}
			consumed += len(enc)
		}
	})
}
