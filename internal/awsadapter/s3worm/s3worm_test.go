package s3worm

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
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
		s, _ := newMotoStore(t)
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
		}
	})
}

// TestPresignExpiryMiniStack covers what moto cannot: MiniStack checks X-Amz-Expires, so
// the adapter's presigned URLs are shown to stop working after their ttl there.
func TestPresignExpiryMiniStack(t *testing.T) {
	ep := emulatortest.MiniStack(t)
	ctx := context.Background()
	cfg, err := awsclient.Load(ctx, awsclient.Options{Endpoint: ep})
	if err != nil {
		t.Fatal(err)
	}
	client := NewClient(cfg)
	bucket := "presign-" + randHex(t, 8)
	if err := CreateBucket(ctx, client, bucket); err != nil {
		t.Fatal(err)
	}
	s := New(client, s3.NewPresignClient(client), bucket)
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
