package wormfs

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
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

// Handler serves presigned GETs. Mount it at /_objects/ (without StripPrefix): it reads
// the key after the first "/_objects/" in the path. Bad or expired signatures get 403,
// a valid URL for a deleted version 404.
func (s *Store) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		key, vid, ok := s.verify(r)
		if !ok {
			http.Error(w, "forbidden", http.StatusForbidden)
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

func (s *Store) serve(w http.ResponseWriter, r *http.Request, key, vid string) {
	rc, info, err := s.Get(r.Context(), key, vid)
	if errors.Is(err, objectstore.ErrNotFound) {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	defer rc.Close()
	h := w.Header()
	ct := info.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	h.Set("Cache-Control", "private, no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("ETag", `"`+strings.TrimPrefix(info.Digest, "sha256:")+`"`)
	if rs, ok := rc.(io.ReadSeeker); ok {
		http.ServeContent(w, r, "", info.Created, rs)
		return
	}
	_, _ = io.Copy(w, rc)
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
