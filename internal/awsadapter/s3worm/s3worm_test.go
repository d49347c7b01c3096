package s3worm

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/awsclient"
	"github.com/cavra-enterprise/aispm-reports/internal/emulatortest"
	"github.com/cavra-enterprise/aispm-reports/internal/objectstore"
	"github.com/cavra-enterprise/aispm-reports/internal/objectstore/objectstoretest"
)

// newMotoStore returns a store on a fresh bucket in moto (per-version locks, unlike
// MiniStack). Each test gets its own bucket: other packages share the emulator.
func newMotoStore(t *testing.T) (*Store, *s3.Client) {
	t.Helper()
	ep := emulatortest.Moto(t)
	ctx := context.Background()
	cfg, err := awsclient.Load(ctx, awsclient.Options{Endpoint: ep})
	if err != nil {
		t.Fatal(err)
	}
	client := NewClient(cfg)
	bucket := "worm-" + randHex(t, 8)
	if err := CreateBucket(ctx, client, bucket); err != nil {
		t.Fatal(err)
	}
	return New(client, s3.NewPresignClient(client), bucket), client
}

func TestContractMoto(t *testing.T) {
	objectstoretest.Run(t, func(t *testing.T) objectstoretest.Harness {
		s, client := newMotoStore(t)
		return objectstoretest.Harness{
			Store: s,
			AddVersion: func(ctx context.Context, in objectstore.PutInput) (objectstore.Info, error) {
				return s.put(ctx, in, true)
			},
			Now:   s.now,
			Sleep: time.Sleep,
			// moto 5.2.5 does not check X-Amz-Expires on presigned URLs (it checks no
			// signatures at all by default); real S3 and MiniStack answer 403 after expiry.
			PresignExpiryGap: "moto serves presigned URLs after X-Amz-Expires",
			Tamper: func(t *testing.T, key, versionID string) string {
				return replaceBytes(t, s, client, key, versionID, nil)
			},
		}
	})
}

// replaceBytes is a second writer with bucket access: it stores key again with one byte
// flipped and the original's metadata (so the port digest still names the original bytes),
// bypassing the adapter, and returns the new version id. A nil checksum lets the SDK send
// the true checksum of the new bytes; a given one is declared instead.
func replaceBytes(t *testing.T, s *Store, client *s3.Client, key, versionID string, checksum *string) string {
	t.Helper()
	ctx := context.Background()
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key), VersionId: aws.String(versionID)})
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil || len(b) == 0 {
		t.Fatalf("read %s: %d bytes, %v", key, len(b), err)
	}
	b[len(b)/2] ^= 0x20
	put, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key),
		Body: bytes.NewReader(b), ContentType: out.ContentType, Metadata: out.Metadata,
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256, ChecksumSHA256: checksum})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(put.VersionId)
}

// TestStoredChecksumMismatchIsErrIntegrity stores bytes under a checksum that is not
// theirs, the state at-rest corruption would leave: moto accepts the declared checksum
// without checking it (MiniStack and S3 refuse it with BadDigest) and returns it on
// GetObject. The adapter's Get alone, without the product's digest, must refuse the bytes.
func TestStoredChecksumMismatchIsErrIntegrity(t *testing.T) {
	s, client := newMotoStore(t)
	ctx := context.Background()
	body := []byte(strings.Repeat("agent,decision\n", 4000))
	put, err := s.Put(ctx, objectstore.PutInput{Key: "k", Body: bytes.NewReader(body)})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	vid := replaceBytes(t, s, client, "k", put.VersionID, aws.String(base64.StdEncoding.EncodeToString(sum[:])))
	rc, _, err := s.Get(ctx, "k", vid)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if !errors.Is(err, objectstore.ErrIntegrity) || len(got) >= len(body) {
		t.Fatalf("Get of bytes under a wrong stored checksum: %d of %d bytes, err %v; want ErrIntegrity", len(got), len(body), err)
	}
	if got, _, err := objectstore.ReadVerified(ctx, s, "k", vid, put.Digest); got != nil || !errors.Is(err, objectstore.ErrIntegrity) {
		t.Fatalf("ReadVerified: %d bytes, %v", len(got), err)
	}
}

// A presigned GET carries what a downloader needs to check the bytes: the port digest in
// the object's metadata header (S3 returns user metadata on every GET) and the stored
// checksum the link asks for. On MiniStack: moto ignores x-amz-checksum-mode in a
// presigned query and sends no checksum header.
func TestPresignedGetCarriesTheChecksum(t *testing.T) {
	s := newMiniStackStore(t, "presign-sum-")
	ctx := context.Background()
	body := []byte("%PDF-1 board pack")
	if _, err := s.Put(ctx, objectstore.PutInput{Key: "room/board.pdf", Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
	link, err := s.PresignGet(ctx, "room/board.pdf", "", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	sum := sha256.Sum256(body)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, body) ||
		resp.Header.Get("x-amz-checksum-sha256") != base64.StdEncoding.EncodeToString(sum[:]) ||
		resp.Header.Get("x-amz-meta-"+digestMeta) != objectstore.DigestOf(body) {
		t.Fatalf("presigned GET = %d, checksum header %q, digest header %q", resp.StatusCode,
			resp.Header.Get("x-amz-checksum-sha256"), resp.Header.Get("x-amz-meta-"+digestMeta))
	}
}

// newMiniStackStore returns a store on a fresh MiniStack bucket named prefix + random.
func newMiniStackStore(t *testing.T, prefix string) *Store {
	t.Helper()
	ep := emulatortest.MiniStack(t)
	ctx := context.Background()
	cfg, err := awsclient.Load(ctx, awsclient.Options{Endpoint: ep})
	if err != nil {
		t.Fatal(err)
	}
	client := NewClient(cfg)
	bucket := prefix + randHex(t, 8)
	if err := CreateBucket(ctx, client, bucket); err != nil {
		t.Fatal(err)
	}
	return New(client, s3.NewPresignClient(client), bucket)
}

// TestPresignExpiryMiniStack covers what moto cannot: MiniStack checks X-Amz-Expires, so
// the adapter's presigned URLs are shown to stop working after their ttl there.
func TestPresignExpiryMiniStack(t *testing.T) {
	s := newMiniStackStore(t, "presign-")
	objectstoretest.RunPresignExpiry(t, objectstoretest.Harness{
		Store: s,
		AddVersion: func(ctx context.Context, in objectstore.PutInput) (objectstore.Info, error) {
			return s.put(ctx, in, true)
		},
		Now:   s.now,
		Sleep: time.Sleep,
	})
}

// The adapter refuses locked deletes before asking S3; this checks that the emulator (and
// so the translation of its answer) refuses a locked older version on its own.
func TestServerRefusesLockedOlderVersion(t *testing.T) {
	s, _ := newMotoStore(t)
	ctx := context.Background()
	old, err := s.Put(ctx, objectstore.PutInput{Key: "k", Body: strings.NewReader("old"),
		Retention: objectstore.Retention{Mode: objectstore.Compliance, Until: time.Now().Add(time.Hour)}})
	if err != nil {
		t.Fatal(err)
	}
	newer, err := s.put(ctx, objectstore.PutInput{Key: "k", Body: strings.NewReader("new")}, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.deleteObjectVersion(ctx, "k", newer.VersionID); err != nil {
		t.Fatalf("delete unlocked newer version: %v", err)
	}
	err = s.deleteObjectVersion(ctx, "k", old.VersionID)
	if !errors.Is(err, objectstore.ErrLocked) {
		t.Fatalf("direct delete of locked older version: err = %v, want ErrLocked", err)
	}
}

// Moto accepts shortening a COMPLIANCE retention; the adapter must not pass it on.
func TestShortenRefusedBeforeS3(t *testing.T) {
	s, client := newMotoStore(t)
	ctx := context.Background()
	until := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	put, err := s.Put(ctx, objectstore.PutInput{Key: "k", Body: strings.NewReader("x"),
		Retention: objectstore.Retention{Mode: objectstore.Compliance, Until: until}})
	if err != nil {
		t.Fatal(err)
	}
	err = s.SetRetention(ctx, "k", put.VersionID, objectstore.Retention{Mode: objectstore.Compliance, Until: until.Add(-time.Minute)})
	if !errors.Is(err, objectstore.ErrLocked) {
		t.Fatalf("shorten err = %v, want ErrLocked", err)
	}
	out, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String("k"), VersionId: aws.String(put.VersionID)})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToTime(out.ObjectLockRetainUntilDate); !got.Equal(until) {
		t.Fatalf("retain-until in S3 = %s, want %s unchanged", got, until)
	}
}

func TestTranslate(t *testing.T) {
	cases := []struct {
		op, code string
		want     error
	}{
		{"get", "NoSuchKey", objectstore.ErrNotFound},
		{"head", "NotFound", objectstore.ErrNotFound},
		{"get", "NoSuchVersion", objectstore.ErrNotFound},
		{"put", "PreconditionFailed", objectstore.ErrExists},
		{"delete", "AccessDenied", objectstore.ErrLocked},
		{"set retention", "AccessDenied", objectstore.ErrLocked},
		{"get", "AccessDenied", nil},
		{"put", "InvalidArgument", objectstore.ErrInvalid},
	}
	for _, c := range cases {
		err := translate(c.op, "k", "v", &smithy.GenericAPIError{Code: c.code})
		for _, sentinel := range []error{objectstore.ErrNotFound, objectstore.ErrExists, objectstore.ErrLocked, objectstore.ErrInvalid} {
			if errors.Is(err, sentinel) != (sentinel == c.want) {
				t.Errorf("translate(%s, %s) = %v, want %v", c.op, c.code, err, c.want)
			}
		}
		var ae smithy.APIError
		if !errors.As(err, &ae) {
			t.Errorf("translate(%s, %s) dropped the SDK error", c.op, c.code)
		}
	}
	if translate("get", "k", "", nil) != nil {
		t.Error("translate(nil) != nil")
	}
}

func randHex(t *testing.T, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
