package objectstore_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/cavra-enterprise/aispm-reports/internal/objectstore"
)

// doc spans several of the reader's chunks.
var doc = bytes.Repeat([]byte("agent-7,blocked,high\n"), 5000)

func verifying(src io.Reader, want string, size int64) io.ReadCloser {
	return objectstore.NewVerifyingReader(io.NopCloser(src), "k", "v1", want, size)
}

func TestVerifyingReaderPassesIntactBytes(t *testing.T) {
	for name, src := range map[string]func() io.Reader{
		"whole":    func() io.Reader { return bytes.NewReader(doc) },
		"one byte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(doc)) },
		"data+EOF": func() io.Reader { return iotest.DataErrReader(bytes.NewReader(doc)) },
	} {
		if err := iotest.TestReader(verifying(src(), objectstore.DigestOf(doc), int64(len(doc))), doc); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := iotest.TestReader(verifying(bytes.NewReader(nil), objectstore.DigestOf(nil), 0), nil); err != nil {
		t.Errorf("empty: %v", err)
	}
	if err := iotest.TestReader(verifying(bytes.NewReader(doc), objectstore.DigestOf(doc), -1), doc); err != nil {
		t.Errorf("size unknown: %v", err)
	}
}

func TestVerifyingReaderNeverReleasesDamagedContentWhole(t *testing.T) {
	want := objectstore.DigestOf(doc)
	for _, at := range []int{0, len(doc) / 2, len(doc) - 1} {
		bad := bytes.Clone(doc)
		bad[at] ^= 1
		for name, src := range map[string]io.Reader{"whole": bytes.NewReader(bad), "one byte": iotest.OneByteReader(bytes.NewReader(bad))} {
			got, err := io.ReadAll(verifying(src, want, int64(len(doc))))
			if !errors.Is(err, objectstore.ErrIntegrity) || len(got) >= len(doc) {
				t.Errorf("byte %d flipped, %s: %d of %d bytes, err %v; want ErrIntegrity before the last byte", at, name, len(got), len(doc), err)
			}
			var ie *objectstore.IntegrityError
			if !errors.As(err, &ie) || ie.Want != want || ie.Key != "k" || ie.VersionID != "v1" {
				t.Errorf("error %v does not name the version and the expected digest", err)
			}
		}
	}
}

func TestVerifyingReaderChecksTheSize(t *testing.T) {
	want := objectstore.DigestOf(doc)
	if got, err := io.ReadAll(verifying(bytes.NewReader(doc[:len(doc)-10]), want, int64(len(doc)))); !errors.Is(err, objectstore.ErrIntegrity) || len(got) >= len(doc)-10 {
		t.Errorf("short source: %d bytes, %v", len(got), err)
	}
	// A longer source is refused as soon as it passes the size, without reading it all.
	long := &countingReader{r: io.MultiReader(bytes.NewReader(doc), strings.NewReader(strings.Repeat("x", 10<<20)))}
	got, err := io.ReadAll(verifying(long, want, int64(len(doc))))
	if !errors.Is(err, objectstore.ErrIntegrity) || len(got) >= len(doc) || long.n > int64(len(doc))+64<<10 {
		t.Errorf("long source: released %d, read %d, err %v", len(got), long.n, err)
	}
	// The recorded size is checked even when the digest happens to be of the bytes read.
	if _, err := io.ReadAll(verifying(bytes.NewReader(doc), want, int64(len(doc))+1)); !errors.Is(err, objectstore.ErrIntegrity) {
		t.Errorf("size mismatch with a matching digest: %v", err)
	}
}

func TestVerifyingReaderRefusesAMalformedDigest(t *testing.T) {
	for _, want := range []string{"", "sha256:abc", "md5:" + strings.Repeat("0", 32), strings.ToUpper(objectstore.DigestOf(doc))} {
		got, err := io.ReadAll(verifying(bytes.NewReader(doc), want, int64(len(doc))))
		if len(got) != 0 || !errors.Is(err, objectstore.ErrIntegrity) {
			t.Errorf("want %q: %d bytes, %v; want none and ErrIntegrity", want, len(got), err)
		}
	}
}

func TestVerifyingReaderSourceErrors(t *testing.T) {
	boom := errors.New("connection reset")
	want := objectstore.DigestOf(doc)
	// A failure before every byte arrived is the source's own error.
	got, err := io.ReadAll(verifying(io.MultiReader(bytes.NewReader(doc[:100]), iotest.ErrReader(boom)), want, int64(len(doc))))
	if !errors.Is(err, boom) || errors.Is(err, objectstore.ErrIntegrity) || len(got) >= 100 {
		t.Errorf("early failure: %d bytes, %v", len(got), err)
	}
	// After every byte, a failing source (an SDK checking its own checksum) is judged by
	// the digest: a mismatch is an integrity failure, a match keeps the source's error.
	bad := bytes.Clone(doc)
	bad[7] ^= 1
	if _, err := io.ReadAll(verifying(io.MultiReader(bytes.NewReader(bad), iotest.ErrReader(boom)), want, int64(len(doc)))); !errors.Is(err, objectstore.ErrIntegrity) {
		t.Errorf("failure after damaged bytes: %v, want ErrIntegrity", err)
	}
	if got, err := io.ReadAll(verifying(io.MultiReader(bytes.NewReader(doc), iotest.ErrReader(boom)), want, int64(len(doc)))); !errors.Is(err, boom) || len(got) >= len(doc) {
		t.Errorf("failure after intact bytes: %d bytes, %v, want the source's error", len(got), err)
	}
}

// fakeGetter serves one version with the Info it is given.
type fakeGetter struct {
	body []byte
	info objectstore.Info
}

func (f fakeGetter) Get(context.Context, string, string) (io.ReadCloser, objectstore.Info, error) {
	return io.NopCloser(bytes.NewReader(f.body)), f.info, nil
}

func TestVerifiedGet(t *testing.T) {
	ctx := context.Background()
	digest := objectstore.DigestOf(doc)
	g := fakeGetter{body: doc, info: objectstore.Info{Key: "k", VersionID: "v1", Size: int64(len(doc)), Digest: digest}}
	if got, _, err := objectstore.ReadVerified(ctx, g, "k", "v1", digest); err != nil || !bytes.Equal(got, doc) {
		t.Fatalf("intact against the record: %v", err)
	}
	if got, _, err := objectstore.ReadVerified(ctx, g, "k", "v1", ""); err != nil || !bytes.Equal(got, doc) {
		t.Fatalf("intact against the store's digest: %v", err)
	}
	// The store's digest disagreeing with the record is refused before any byte.
	rc, _, err := objectstore.VerifiedGet(ctx, g, "k", "v1", objectstore.DigestOf([]byte("other")))
	if rc != nil || !errors.Is(err, objectstore.ErrIntegrity) {
		t.Fatalf("store digest disagrees with the record: reader %v, err %v", rc != nil, err)
	}
	// Bytes replaced under an unchanged store digest fail against either reference.
	bad := bytes.Clone(doc)
	bad[len(bad)-1] ^= 1
	g.body = bad
	for _, want := range []string{digest, ""} {
		if got, _, err := objectstore.ReadVerified(ctx, g, "k", "v1", want); got != nil || !errors.Is(err, objectstore.ErrIntegrity) {
			t.Fatalf("damaged against %q: %d bytes, %v", want, len(got), err)
		}
	}
	// A store that records no digest and a product that records none: nothing to check by.
	g.info.Digest = ""
	if _, _, err := objectstore.ReadVerified(ctx, g, "k", "v1", ""); !errors.Is(err, objectstore.ErrIntegrity) {
		t.Fatalf("no digest anywhere: %v, want ErrIntegrity", err)
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// FuzzVerifyingReader: intact bytes come through exactly; bytes that differ from the
// recorded ones in any way fail with ErrIntegrity and never come through whole.
func FuzzVerifyingReader(f *testing.F) {
	f.Add([]byte("a,b\n1,2\n"), []byte("a,b\n1,3\n"), uint8(3))
	f.Add([]byte{}, []byte{0}, uint8(1))
	f.Add(bytes.Repeat([]byte("x"), 70000), bytes.Repeat([]byte("x"), 69999), uint8(200))
	f.Fuzz(func(t *testing.T, recorded, stored []byte, chunk uint8) {
		src := func(b []byte) io.Reader {
			if chunk%2 == 0 {
				return iotest.OneByteReader(bytes.NewReader(b))
			}
			return iotest.HalfReader(bytes.NewReader(b))
		}
		want := objectstore.DigestOf(recorded)
		got, err := io.ReadAll(verifying(src(recorded), want, int64(len(recorded))))
		if err != nil || !bytes.Equal(got, recorded) {
			t.Fatalf("intact: %d of %d bytes, %v", len(got), len(recorded), err)
		}
		if bytes.Equal(recorded, stored) {
			return
		}
		got, err = io.ReadAll(verifying(src(stored), want, int64(len(recorded))))
		if !errors.Is(err, objectstore.ErrIntegrity) || (len(stored) > 0 && len(got) >= len(stored)) {
			t.Fatalf("differing bytes: released %d of %d, err %v", len(got), len(stored), err)
		}
	})
}
