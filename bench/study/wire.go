package study

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Kind says what a frame is.
type Kind uint8

const (
	// Request is a message from the producer to an executor: run a handler.
	Request Kind = 1 + iota
	// Reply is an executor's answer to a Request, with the Request's ID.
	Reply
	// Call is a handler's request to the downstream server: answer after
	// Wait microseconds.
	Call
	// Result is the downstream server's answer to a Call, with its ID.
	Result
)

func (k Kind) String() string {
	switch k {
	case Request:
		return "request"
	case Reply:
		return "reply"
	case Call:
		return "call"
	case Result:
		return "result"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// HeaderSize is the size of a frame's fixed header.
const HeaderSize = 21

// MaxPayload is the largest payload a frame may carry.
const MaxPayload = 1 << 20

// A Frame is one message of the workload's protocol, the same on the
// producer's and the downstream server's connections. On the wire it is a
// 21-byte header — kind (1 byte), ID (8), Work (4), Wait (4), payload length
// (4), integers big-endian — followed by the payload: a length-prefixed
// frame with the routing fields up front, as an AMQP delivery's frame header
// and body are, without AMQP's channels and methods.
type Frame struct {
	Kind Kind
	// ID is chosen by the sender of a Request or Call and copied into its
	// Reply or Result.
	ID uint64
	// Work is the CPU work a Request asks for, in microseconds.
	Work uint32
	// Wait is how long a Request's handler, or the downstream server
	// answering a Call, waits, in microseconds.
	Wait    uint32
	Payload []byte
}

// Errors ReadFrame returns for a malformed frame; both are wrapped in
// ErrFrame.
var (
	ErrFrame        = errors.New("study: malformed frame")
	errKind         = fmt.Errorf("%w: unknown kind", ErrFrame)
	errPayloadLimit = fmt.Errorf("%w: payload over %d bytes", ErrFrame, MaxPayload)
)

// AppendFrame appends f's wire form to dst and returns the extended slice.
// It panics if the payload is longer than MaxPayload.
func AppendFrame(dst []byte, f Frame) []byte {
	if len(f.Payload) > MaxPayload {
		panic(errPayloadLimit)
	}
	dst = append(dst, byte(f.Kind))
	dst = binary.BigEndian.AppendUint64(dst, f.ID)
	dst = binary.BigEndian.AppendUint32(dst, f.Work)
	dst = binary.BigEndian.AppendUint32(dst, f.Wait)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(f.Payload)))
	return append(dst, f.Payload...)
}

// ReadFrame reads one frame from r. The payload is read into buf when it
// fits (the Frame's Payload then aliases buf), into a new slice otherwise.
// It returns io.EOF when r ends before the first byte, io.ErrUnexpectedEOF
// when it ends inside a frame, and an error wrapping ErrFrame for an
// unknown kind or a payload over MaxPayload.
func ReadFrame(r io.Reader, buf []byte) (Frame, error) {
	var h [HeaderSize]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return Frame{}, err
	}
	f, n, err := parseHeader(h[:])
	if err != nil {
		return Frame{}, err
	}
	if n <= cap(buf) {
		f.Payload = buf[:n]
	} else {
		f.Payload = make([]byte, n)
	}
	if _, err := io.ReadFull(r, f.Payload); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return Frame{}, err
	}
	return f, nil
}

// parseHeader decodes a frame's header; n is its payload's length.
func parseHeader(h []byte) (f Frame, n int, err error) {
	f.Kind = Kind(h[0])
	if f.Kind < Request || f.Kind > Result {
		return Frame{}, 0, fmt.Errorf("%w %d", errKind, h[0])
	}
	f.ID = binary.BigEndian.Uint64(h[1:])
	f.Work = binary.BigEndian.Uint32(h[9:])
	f.Wait = binary.BigEndian.Uint32(h[13:])
	length := binary.BigEndian.Uint32(h[17:])
	if length > MaxPayload {
		return Frame{}, 0, fmt.Errorf("%w (%d)", errPayloadLimit, length)
	}
	return f, int(length), nil
}
