package wormfs

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/objectstore"
)

// objectsPath is where Handler is mounted under baseURL.
const objectsPath = "/_objects/"

// PresignGet returns <baseURL>/_objects/<key>?version=..&expires=..&sig=.. valid for ttl.
// The URL names the version resolved now, so a later version never changes what it serves.
func (s *Store) PresignGet(ctx context.Context, key, versionID string, ttl time.Duration) (string, error) {
	if err := objectstore.CheckPresignTTL(ttl); err != nil {
		return "", fmt.Errorf("wormfs: presign %q: %w", key, err)
	}
	info, err := s.Head(ctx, key, versionID)
	if err != nil {
		return "", err
	}
	expires := ceilUnix(s.clk.Now().Add(ttl))
	q := url.Values{
		"version": {info.VersionID},
		"expires": {strconv.FormatInt(expires, 10)},
		"sig":     {hex.EncodeToString(s.sign(key, info.VersionID, expires))},
	}
	return s.baseURL + objectsPath + escapeKey(key) + "?" + q.Encode(), nil
}

// DownloadGuard lets the product check presigned downloads against what it recorded, and
// hear of the ones refused. The store alone knows only its own sidecar.
type DownloadGuard interface {
	// RecordedDigest is the digest the product recorded for key@versionID, or "" when no
	// record of the product names that version (the sidecar's digest is then the reference).
	RecordedDigest(ctx context.Context, key, versionID string) (string, error)
	// IntegrityFailed is told of a download refused because the bytes failed their check.
	IntegrityFailed(ctx context.Context, key, versionID string, failure *objectstore.IntegrityError)
}

// SetDownloadGuard installs g; call it before Handler serves.
func (s *Store) SetDownloadGuard(g DownloadGuard) { s.guard = g }

// Handler serves presigned GETs. Mount it at /_objects/ (without StripPrefix): it reads
// the key after the first "/_objects/" in the path. Bad or expired signatures get 403, a
// valid URL for a version (or data file) that no longer exists 404, and bytes that fail
// their recorded digest 409 integrity_failure; every refusal has the product's JSON error
// body.
func (s *Store) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "", "presigned links serve GET and HEAD only")
			return
		}
		key, vid, ok := s.verify(r)
		if !ok {
			writeError(w, http.StatusForbidden, "forbidden", "", "the link is invalid or has expired")
			return
		}
		s.serve(w, r, key, vid)
	})
}

// verify checks the signature (in constant time) and then the expiry.
func (s *Store) verify(r *http.Request) (key, vid string, ok bool) {
	_, key, found := strings.Cut(r.URL.Path, objectsPath)
	if !found || key == "" {
		return "", "", false
	}
	q := r.URL.Query()
	vid = q.Get("version")
	expires, err := strconv.ParseInt(q.Get("expires"), 10, 64)
	if err != nil {
		return "", "", false
	}
	sig, err := hex.DecodeString(q.Get("sig"))
	if err != nil || !hmac.Equal(sig, s.sign(key, vid, expires)) {
		return "", "", false
	}
	if s.clk.Now().Unix() >= expires {
		return "", "", false
	}
	return key, vid, true
}

// serve verifies the whole version before the first byte goes out, so a mismatch can still
// be answered with an error status instead of a 200 with damaged bytes. The verified bytes
// are held in memory and served from there, so what is sent is exactly what was checked
// (a second read of the file could differ). Artifacts are bounded documents the product
// rendered in memory itself, and the S3 adapter buffers them on Put alike.
func (s *Store) serve(w http.ResponseWriter, r *http.Request, key, vid string) {
	ctx := r.Context()
	want := ""
	if s.guard != nil {
		var err error
		if want, err = s.guard.RecordedDigest(ctx, key, vid); err != nil {
			writeError(w, http.StatusInternalServerError, "internal", "", "the download could not be checked; try again")
			return
		}
	}
	body, info, err := objectstore.ReadVerified(ctx, s, key, vid, want)
	var ie *objectstore.IntegrityError
	switch {
	case errors.Is(err, objectstore.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "", "the linked version no longer exists")
		return
	case errors.As(err, &ie):
		if s.guard != nil {
			s.guard.IntegrityFailed(ctx, key, vid, ie)
		}
		writeError(w, http.StatusConflict, "integrity_failure", "artifact",
			"the stored bytes do not match their recorded digest; nothing was served")
		return
	case err != nil:
		writeError(w, http.StatusInternalServerError, "internal", "", "the object could not be read; try again")
		return
	}
	h := w.Header()
	h.Set("Content-Type", info.ContentType)
	h.Set("Cache-Control", "private, no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("ETag", `"`+strings.TrimPrefix(info.Digest, "sha256:")+`"`)
	http.ServeContent(w, r, "", info.Created, bytes.NewReader(body))
}

// writeError answers with the product's stable error body.
func writeError(w http.ResponseWriter, status int, code, field, message string) {
	b, _ := json.Marshal(map[string]map[string]string{"error": {"code": code, "message": message, "field": field}})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// sign is HMAC-SHA256 over the key, version and expiry; newlines cannot occur in keys.
func (s *Store) sign(key, vid string, expires int64) []byte {
	m := hmac.New(sha256.New, s.hmacKey)
	fmt.Fprintf(m, "GET\n%s\n%s\n%d", key, vid, expires)
	return m.Sum(nil)
}

// escapeKey escapes each path segment, keeping the slashes between them.
func escapeKey(key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// ceilUnix rounds up, so a URL lives at least its ttl.
func ceilUnix(t time.Time) int64 {
	if t.Truncate(time.Second).Equal(t) {
		return t.Unix()
	}
	return t.Unix() + 1
}
