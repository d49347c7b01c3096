// Package s3worm is the AWS objectstore adapter: S3 with Object Lock on a versioned bucket.
//
// S3 enforces most of the port's rules itself (locked deletes, GOVERNANCE changes without
// bypass). The adapter adds what S3 or the emulators leave out: it refuses shortening or
// downgrading a retention before calling S3 (moto accepts shortening COMPLIANCE), it
// resolves "current version" to a version id before acting (S3 would otherwise write a
// delete marker instead of removing a version), and it stores the port's sha256 digest in
// the object's metadata. Objects are stored with an S3 SHA-256 checksum and read back with
// ChecksumMode enabled, so S3's checksum is checked on every Get (ErrIntegrity). It never
// sends BypassGovernanceRetention.
package s3worm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/cavra-enterprise/aispm-reports/internal/objectstore"
)

var _ objectstore.Store = (*Store)(nil)

// digestMeta is the metadata key (x-amz-meta-aispm-sha256) holding Info.Digest.
const digestMeta = "aispm-sha256"

// Store is an objectstore.Store on one Object Lock bucket.
type Store struct {
	client  *s3.Client
	presign *s3.PresignClient
	bucket  string
	// now judges retention before asking S3; S3 judges again by its own clock.
	now func() time.Time
}

// New returns a store on bucket, which must have Object Lock enabled (see CreateBucket).
func New(client *s3.Client, presign *s3.PresignClient, bucket string) *Store {
	return &Store{client: client, presign: presign, bucket: bucket, now: func() time.Time { return time.Now().UTC() }}
}

// NewClient builds the S3 client for cfg, with path-style addressing when cfg points at
// an emulator (BaseEndpoint set), since emulators do not serve bucket subdomains.
func NewClient(cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		if cfg.BaseEndpoint != nil {
			o.UsePathStyle = true
		}
	})
}

// CreateBucket creates a versioned bucket with Object Lock enabled, for tests and emulators
// (in AWS the CDK stack owns the bucket).
func CreateBucket(ctx context.Context, client *s3.Client, name string) error {
	in := &s3.CreateBucketInput{Bucket: aws.String(name), ObjectLockEnabledForBucket: aws.Bool(true)}
	if r := client.Options().Region; r != "" && r != "us-east-1" {
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraint(r)}
	}
	if _, err := client.CreateBucket(ctx, in); err != nil {
		return fmt.Errorf("s3worm: create bucket %s: %w", name, err)
	}
	// Object Lock implies versioning in S3; saying so explicitly covers emulators that don't.
	_, err := client.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
		Bucket:                  aws.String(name),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled},
	})
	if err != nil {
		return fmt.Errorf("s3worm: enable versioning on %s: %w", name, err)
	}
	return nil
}

// Put stores a new key. It is refused with ErrExists when the key has a current version,
// by S3's conditional write (If-None-Match: *), so two racing writers cannot both win.
func (s *Store) Put(ctx context.Context, in objectstore.PutInput) (objectstore.Info, error) {
	return s.put(ctx, in, false)
}

// put writes one version; addVersion drops the condition so tests can make a second
// version of a key, which only a writer outside the port could do.
func (s *Store) put(ctx context.Context, in objectstore.PutInput, addVersion bool) (objectstore.Info, error) {
	if err := objectstore.ValidatePut(in, s.now()); err != nil {
		return objectstore.Info{}, fmt.Errorf("s3worm: %w", err)
	}
	if _, ok := in.Metadata[digestMeta]; ok {
		return objectstore.Info{}, fmt.Errorf("s3worm: put %q: metadata key %s is reserved: %w", in.Key, digestMeta, objectstore.ErrInvalid)
	}
	// Buffered: the digest travels in a header ahead of the body, and SigV4 needs a
	// seekable body. Report artifacts are small enough for memory.
	body, err := io.ReadAll(in.Body)
	if err != nil {
		return objectstore.Info{}, fmt.Errorf("s3worm: put %q: read body: %w", in.Key, err)
	}
	info := newInfo(in, body)
	req := putRequest(s.bucket, in, info, body)
	if !addVersion {
		req.IfNoneMatch = aws.String("*")
	}
	out, err := s.client.PutObject(ctx, req)
	if err != nil {
		return objectstore.Info{}, translate("put", in.Key, "", err)
	}
	info.VersionID = aws.ToString(out.VersionId)
	return info, nil
}

func newInfo(in objectstore.PutInput, body []byte) objectstore.Info {
	info := objectstore.Info{
		Key: in.Key, Size: int64(len(body)), ContentType: in.ContentType,
		Digest: objectstore.DigestOf(body), LegalHold: in.LegalHold,
		Metadata: copyMeta(in.Metadata), Created: time.Now().UTC(),
	}
	if info.ContentType == "" {
		info.ContentType = objectstore.DefaultContentType
	}
	if !in.Retention.Until.IsZero() {
		info.Retention = objectstore.Retention{Mode: in.Retention.Mode, Until: in.Retention.Until.UTC().Truncate(time.Millisecond)}
	}
	return info
}

func putRequest(bucket string, in objectstore.PutInput, info objectstore.Info, body []byte) *s3.PutObjectInput {
	meta := copyMeta(in.Metadata)
	meta[digestMeta] = info.Digest
	sum := sha256.Sum256(body)
	req := &s3.PutObjectInput{
		Bucket:        aws.String(bucket),
		Key:           aws.String(in.Key),
		Body:          bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
		ContentType:   aws.String(info.ContentType),
		Metadata:      meta,
		// S3 checks the bytes against this, and Object Lock puts need some checksum.
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
		ChecksumSHA256:    aws.String(base64.StdEncoding.EncodeToString(sum[:])),
	}
	if !info.Retention.Until.IsZero() {
		req.ObjectLockMode = types.ObjectLockMode(info.Retention.Mode)
		req.ObjectLockRetainUntilDate = aws.Time(info.Retention.Until)
	}
	if in.LegalHold {
		req.ObjectLockLegalHoldStatus = types.ObjectLockLegalHoldStatusOn
	}
	return req
}

// Get opens a version's bytes; the caller closes them. It asks S3 for the SHA-256 checksum
// stored with the object (ChecksumMode) and checks the bytes against it as they are read:
// a mismatch ends the read with objectstore.ErrIntegrity. (The SDK checks the same
// checksum, but its error type is internal to it; the port's reader names the failure.)
func (s *Store) Get(ctx context.Context, key, versionID string) (io.ReadCloser, objectstore.Info, error) {
	if err := objectstore.ValidateKey(key); err != nil {
		return nil, objectstore.Info{}, fmt.Errorf("s3worm: %w", err)
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key),
		VersionId: optional(versionID), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		return nil, objectstore.Info{}, translate("get", key, versionID, err)
	}
	info := toInfo(key, attrs{
		versionID: out.VersionId, size: out.ContentLength, contentType: out.ContentType, meta: out.Metadata,
		mode: out.ObjectLockMode, until: out.ObjectLockRetainUntilDate, hold: out.ObjectLockLegalHoldStatus,
		modified: out.LastModified, deleteMarker: out.DeleteMarker,
	})
	return checkedBody(out, key, info.VersionID), info, nil
}

// checkedBody wraps a GetObject body in the port's verifying reader against S3's stored
// SHA-256 checksum. Without one (an object stored without it, or a multipart composite
// checksum, "<b64>-<parts>", which is not a digest of the bytes) the body is returned as
// is: the product's own digest check (objectstore.VerifiedGet) still applies.
func checkedBody(out *s3.GetObjectOutput, key, versionID string) io.ReadCloser {
	sum, err := base64.StdEncoding.DecodeString(aws.ToString(out.ChecksumSHA256))
	if err != nil || len(sum) != sha256.Size {
		return out.Body
	}
	size := int64(-1)
	if out.ContentLength != nil {
		size = *out.ContentLength
	}
	return objectstore.NewVerifyingReader(out.Body, key, versionID, objectstore.Digest(sum), size)
}

// Head describes a version.
func (s *Store) Head(ctx context.Context, key, versionID string) (objectstore.Info, error) {
	if err := objectstore.ValidateKey(key); err != nil {
		return objectstore.Info{}, fmt.Errorf("s3worm: %w", err)
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key), VersionId: optional(versionID)})
	if err != nil {
		return objectstore.Info{}, translate("head", key, versionID, err)
	}
	return toInfo(key, attrs{
		versionID: out.VersionId, size: out.ContentLength, contentType: out.ContentType, meta: out.Metadata,
		mode: out.ObjectLockMode, until: out.ObjectLockRetainUntilDate, hold: out.ObjectLockLegalHoldStatus,
		modified: out.LastModified, deleteMarker: out.DeleteMarker,
	}), nil
}

// ListVersions lists versions and delete markers under prefix, by key then newest first.
// S3's listing lacks metadata and lock state, so each version is also read with
// HeadObject: one request per version, acceptable for retention reviews, not for hot paths.
func (s *Store) ListVersions(ctx context.Context, prefix string) ([]objectstore.Info, error) {
	var out []objectstore.Info
	p := s3.NewListObjectVersionsPaginator(s.client, &s3.ListObjectVersionsInput{Bucket: aws.String(s.bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, translate("list versions", prefix, "", err)
		}
		for _, v := range page.Versions {
			info, err := s.Head(ctx, aws.ToString(v.Key), aws.ToString(v.VersionId))
			if errors.Is(err, objectstore.ErrNotFound) {
				continue // deleted since the listing
			}
			if err != nil {
				return nil, err
			}
			info.Created = aws.ToTime(v.LastModified)
			out = append(out, info)
		}
		for _, m := range page.DeleteMarkers {
			out = append(out, objectstore.Info{Key: aws.ToString(m.Key), VersionID: aws.ToString(m.VersionId),
				Created: aws.ToTime(m.LastModified), DeleteMarker: true, Metadata: map[string]string{}})
		}
	}
	// Stable, so versions with equal timestamps keep S3's newest-first order.
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Key != out[j].Key {
			return out[i].Key < out[j].Key
		}
		return out[i].Created.After(out[j].Created)
	})
	return out, nil
}

// SetLegalHold turns a version's legal hold on or off.
func (s *Store) SetLegalHold(ctx context.Context, key, versionID string, on bool) error {
	// Resolve first: moto fails with a 500 on a missing key, and the error names the version.
	info, err := s.Head(ctx, key, versionID)
	if err != nil {
		return err
	}
	status := types.ObjectLockLegalHoldStatusOff
	if on {
		status = types.ObjectLockLegalHoldStatusOn
	}
	_, err = s.client.PutObjectLegalHold(ctx, &s3.PutObjectLegalHoldInput{
		Bucket: aws.String(s.bucket), Key: aws.String(key), VersionId: aws.String(info.VersionID),
		LegalHold: &types.ObjectLockLegalHold{Status: status},
	})
	return translate("set legal hold", key, info.VersionID, err)
}

// SetRetention extends a version's retention. The current retention is read with
// HeadObject (moto has no GetObjectRetention) and a shorter or weaker one is refused here,
// because moto accepts shortening COMPLIANCE; S3 would refuse it too.
func (s *Store) SetRetention(ctx context.Context, key, versionID string, r objectstore.Retention) error {
	info, err := s.Head(ctx, key, versionID)
	if err != nil {
		return err
	}
	noop, err := objectstore.CheckRetentionChange(info.Retention, r, s.now())
	if err != nil {
		return fmt.Errorf("s3worm: set retention %q@%s: %w", key, info.VersionID, err)
	}
	if noop {
		return nil // an expired retention locks nothing; S3 would need a bypass to clear it
	}
	_, err = s.client.PutObjectRetention(ctx, &s3.PutObjectRetentionInput{
		Bucket: aws.String(s.bucket), Key: aws.String(key), VersionId: aws.String(info.VersionID),
		Retention: &types.ObjectLockRetention{
			Mode:            types.ObjectLockRetentionMode(r.Mode),
			RetainUntilDate: aws.Time(r.Until.UTC().Truncate(time.Millisecond)),
		},
	})
	return translate("set retention", key, info.VersionID, err)
}

// DeleteVersion removes one version for good. The version is resolved first: S3's
// DeleteObject without a version id would only add a delete marker, and deleting a missing
// version would succeed silently. A version locked by the adapter's clock is refused
// without asking S3; S3 refuses by its own clock (AccessDenied) either way.
func (s *Store) DeleteVersion(ctx context.Context, key, versionID string) error {
	info, err := s.Head(ctx, key, versionID)
	if err != nil {
		return err
	}
	if info.LegalHold {
		return fmt.Errorf("s3worm: delete %q@%s: legal hold: %w", key, info.VersionID, objectstore.ErrLocked)
	}
	if info.Retention.InForce(s.now()) {
		return fmt.Errorf("s3worm: delete %q@%s: %s retention until %s: %w",
			key, info.VersionID, info.Retention.Mode, info.Retention.Until.Format(time.RFC3339), objectstore.ErrLocked)
	}
	return s.deleteObjectVersion(ctx, key, info.VersionID)
}

func (s *Store) deleteObjectVersion(ctx context.Context, key, versionID string) error {
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{
		Bucket: aws.String(s.bucket), Key: aws.String(key), VersionId: aws.String(versionID),
	})
	return translate("delete", key, versionID, err)
}

// PresignGet returns a SigV4 presigned GET of the version resolved now, valid for ttl. The
// link goes straight to S3, which serves it without any check of the product's: it asks S3
// (x-amz-checksum-mode=ENABLED in the signed query) to send the object's stored SHA-256
// checksum in x-amz-checksum-sha256, which a downloader can compare with the bytes and with
// the artifact's recorded digest.
func (s *Store) PresignGet(ctx context.Context, key, versionID string, ttl time.Duration) (string, error) {
	if err := objectstore.CheckPresignTTL(ttl); err != nil {
		return "", fmt.Errorf("s3worm: presign %q: %w", key, err)
	}
	info, err := s.Head(ctx, key, versionID)
	if err != nil {
		return "", err
	}
	req, err := s.presign.PresignGetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(s.bucket), Key: aws.String(key), VersionId: aws.String(info.VersionID),
		ChecksumMode: types.ChecksumModeEnabled,
	}, s3.WithPresignExpires(ttl))
	if err != nil {
		return "", fmt.Errorf("s3worm: presign %q@%s: %w", key, info.VersionID, err)
	}
	return req.URL, nil
}

// attrs are the object fields GetObject and HeadObject share.
type attrs struct {
	versionID, contentType *string
	size                   *int64
	meta                   map[string]string
	mode                   types.ObjectLockMode
	until, modified        *time.Time
	hold                   types.ObjectLockLegalHoldStatus
	deleteMarker           *bool
}

func toInfo(key string, a attrs) objectstore.Info {
	meta := copyMeta(a.meta)
	digest := meta[digestMeta]
	delete(meta, digestMeta)
	info := objectstore.Info{
		Key: key, VersionID: aws.ToString(a.versionID), Size: aws.ToInt64(a.size),
		ContentType: aws.ToString(a.contentType), Digest: digest,
		LegalHold: a.hold == types.ObjectLockLegalHoldStatusOn, Metadata: meta,
		Created: aws.ToTime(a.modified).UTC(), DeleteMarker: aws.ToBool(a.deleteMarker),
	}
	if a.until != nil {
		info.Retention = objectstore.Retention{Mode: objectstore.RetentionMode(a.mode), Until: a.until.UTC()}
	}
	return info
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

func copyMeta(m map[string]string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}
