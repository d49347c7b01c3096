package objectstore

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"regexp"
)

// ErrIntegrity is the port's refusal of stored bytes that do not match the digest (or size)
// recorded for them. Every read whose bytes leave the product goes through VerifiedGet, so
// damaged or replaced bytes are refused instead of sent.
var ErrIntegrity = errors.New("stored bytes do not match their recorded digest")

// IntegrityError is ErrIntegrity with what was checked. It names digests and sizes, never
// the bytes themselves.
type IntegrityError struct {
	Key, VersionID string
	// Want is the digest the bytes were checked against.
	Want string
	// Reason says what differed.
	Reason string
}

func (e *IntegrityError) Error() string {
	return fmt.Sprintf("%s@%s: %s: %v (want %s)", e.Key, e.VersionID, e.Reason, ErrIntegrity, e.Want)
}

// Is makes errors.Is(err, ErrIntegrity) hold.
func (e *IntegrityError) Is(target error) bool { return target == ErrIntegrity }

// Getter is the read half of Store.
type Getter interface {
	Get(ctx context.Context, key, versionID string) (io.ReadCloser, Info, error)
}

var digestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// VerifiedGet opens a version for a read whose bytes leave the product. want is the digest
// the product recorded for it (an artifact's or manifest's record); "" means the product
// records none and the store's own digest is the reference. A store digest that disagrees
// with want is refused before any byte is read. The reader checks the bytes against want
// and the store's size as they pass and ends with an *IntegrityError instead of io.EOF on
// any difference; it holds the last byte back until the check is made, so a reader never
// receives the complete content of a version that fails.
func VerifiedGet(ctx context.Context, g Getter, key, versionID, want string) (io.ReadCloser, Info, error) {
	rc, info, err := g.Get(ctx, key, versionID)
	if err != nil {
		return nil, Info{}, err
	}
	if want == "" {
		want = info.Digest
	}
	if info.Digest != "" && info.Digest != want {
		rc.Close()
		return nil, Info{}, &IntegrityError{Key: key, VersionID: info.VersionID, Want: want,
			Reason: "the store records digest " + info.Digest}
	}
	return NewVerifyingReader(rc, key, info.VersionID, want, info.Size), info, nil
}

// ReadVerified reads a whole version through VerifiedGet. On any error it returns no bytes.
func ReadVerified(ctx context.Context, g Getter, key, versionID, want string) ([]byte, Info, error) {
	rc, info, err := VerifiedGet(ctx, g, key, versionID, want)
	if err != nil {
		return nil, Info{}, err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, Info{}, err
	}
	return b, info, nil
}

// verifyChunk is how much is read from the source at a time.
const verifyChunk = 32 << 10

// NewVerifyingReader wraps src so that its bytes are hashed as they are read and checked at
// the end against want ("sha256:<hex>") and size (negative: not checked). The last byte is
// released only after the check passed; on a mismatch Read returns an *IntegrityError and
// never that byte. A source that reads past size fails at once, without reading on. A
// malformed want fails the first Read: content that cannot be checked is not released.
func NewVerifyingReader(src io.ReadCloser, key, versionID, want string, size int64) io.ReadCloser {
	v := &verifyingReader{src: src, key: key, versionID: versionID, want: want, size: size, h: sha256.New()}
	if !digestRE.MatchString(want) {
		v.final = v.mismatch("the recorded digest is not a sha256 digest")
	}
	return v
}

type verifyingReader struct {
	src            io.ReadCloser
	key, versionID string
	want           string
	size           int64
	h              hash.Hash
	n              int64  // bytes taken from src
	buf            []byte // scratch for reads from src
	held           []byte // hashed, not yet handed out
	// final is set once src is done: io.EOF after a passed check, else the failure.
	final error
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		switch {
		case v.final == nil && len(v.held) > 1:
			return v.release(p, len(v.held)-1), nil
		case v.final == io.EOF && len(v.held) > 0:
			return v.release(p, len(v.held)), nil
		case v.final != nil:
			return 0, v.final
		}
		v.fill()
	}
}

func (v *verifyingReader) release(p []byte, max int) int {
	n := copy(p[:min(len(p), max)], v.held)
	v.held = v.held[n:]
	return n
}

func (v *verifyingReader) fill() {
	if v.buf == nil {
		v.buf = make([]byte, verifyChunk)
	}
	n, err := v.src.Read(v.buf)
	v.h.Write(v.buf[:n])
	v.n += int64(n)
	v.held = append(v.held, v.buf[:n]...)
	switch {
	case v.size >= 0 && v.n > v.size:
		v.final = v.mismatch(fmt.Sprintf("more than the recorded %d bytes", v.size))
	case err == io.EOF:
		v.final = v.check()
	case err != nil && v.size >= 0 && v.n == v.size && v.sum() != v.want:
		// Every byte arrived and the source still failed: an SDK that checks the store's
		// own checksum fails this way. The digest decides what the failure is.
		v.final = v.check()
	case err != nil:
		v.final = err
	}
	if v.final != nil && v.final != io.EOF {
		v.held = nil
	}
}

func (v *verifyingReader) check() error {
	if v.size >= 0 && v.n != v.size {
		return v.mismatch(fmt.Sprintf("%d bytes where %d are recorded", v.n, v.size))
	}
	if got := v.sum(); got != v.want {
		return v.mismatch("the bytes hash to " + got)
	}
	return io.EOF
}

func (v *verifyingReader) sum() string { return Digest(v.h.Sum(nil)) }

func (v *verifyingReader) mismatch(reason string) error {
	return &IntegrityError{Key: v.key, VersionID: v.versionID, Want: v.want, Reason: reason}
}

func (v *verifyingReader) Close() error { return v.src.Close() }
