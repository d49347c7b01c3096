package delivery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"path"
	"strings"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/artifacts"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
	"github.com/cavra-enterprise/aispm-reports/internal/mailer"
	"github.com/cavra-enterprise/aispm-reports/internal/manifest"
	"github.com/cavra-enterprise/aispm-reports/internal/objectstore"
	"github.com/cavra-enterprise/aispm-reports/internal/settings"
)

// LinkTTL is the lifetime of the download link mailed instead of an attachment too large
// for the tenant's limit.
const LinkTTL = time.Hour

// errNoMailer is what an email send meets where no mail provider is configured; it is
// classed provider_auth, so it dead-letters at once instead of retrying.
var errNoMailer = fmt.Errorf("no mail provider configured: %w", mailer.ErrAuth)

// sendChannel delivers rec by its channel. A portal delivery returns the inbox write, so it
// commits with the delivery's outcome.
func (s *Service) sendChannel(ctx context.Context, tenantID string, st settings.Settings, rec Record) ([]itemstore.Write, error) {
	switch rec.Channel {
	case Portal:
		w, err := inboxWrite(tenantID, rec, s.Clock.Now())
		return []itemstore.Write{w}, err
	case Email:
		return nil, s.sendEmail(ctx, tenantID, st, rec)
	case GRC:
		return nil, s.exportGRC(ctx, tenantID, st, rec)
	}
	return nil, &failure{class: FailRenderError, err: fmt.Errorf("unknown channel %q", rec.Channel)}
}

// InboxEntry is one portal inbox item: what was delivered, never to whom.
type InboxEntry struct {
	DeliveryRef   string `json:"delivery_ref"`
	SubjectRef    string `json:"subject_ref"`
	SubjectDigest string `json:"subject_digest"`
	ReportID      string `json:"report_id"`
	DeliveredAt   string `json:"delivered_at"`
}

func inboxWrite(tenantID string, rec Record, now time.Time) (itemstore.Write, error) {
	data, err := json.Marshal(InboxEntry{DeliveryRef: rec.DeliveryRef, SubjectRef: rec.SubjectRef,
		SubjectDigest: rec.SubjectDigest, ReportID: rec.ReportID, DeliveredAt: stamp(now)})
	if err != nil {
		return itemstore.Write{}, err
	}
	return itemstore.Write{Kind: itemstore.Put, Cond: itemstore.IfAbsent,
		Item: itemstore.Item{PK: InboxKey(tenantID), SK: rec.ID(), Data: data}}, nil
}

// content is the object a delivery sends: the artifact, or a package's signed manifest,
// with the digest the product recorded for it and which object it is (for evidence).
type content struct {
	key, version, name, contentType string
	digest, object                  string
	size                            int64
}

func (s *Service) content(ctx context.Context, tenantID string, rec Record) (content, manifest.Record, error) {
	if isPackage(rec.SubjectRef) {
		pkg, err := s.Packages.Get(ctx, tenantID, rec.SubjectRef)
		if err != nil {
			return content{}, manifest.Record{}, &failure{class: FailRenderError, err: err}
		}
		return content{key: pkg.ManifestKey, version: pkg.ManifestVer, name: "manifest.json", contentType: "application/json",
			digest: pkg.ManifestDigest, object: artifacts.ObjectManifest, size: -1}, pkg, nil
	}
	a, err := s.Artifacts.Get(ctx, tenantID, rec.SubjectRef)
	if err != nil {
		return content{}, manifest.Record{}, &failure{class: FailRenderError, err: err}
	}
	name := a.ReportID + path.Ext(a.ObjectKey)
	return content{key: a.ObjectKey, version: a.VersionID, name: name, contentType: a.ContentType,
		digest: a.Digest, object: artifacts.ObjectArtifact, size: a.Size}, manifest.Record{}, nil
}

// integrityFailure is an outgoing read refused because the stored bytes fail the digest the
// product recorded, or are gone: nothing is sent, and the attempt dead-letters as
// integrity_failure with evidence naming the object and the digest expected.
type integrityFailure struct {
	object, want string
	err          error
}

func (f *integrityFailure) Error() string { return FailIntegrity + ": " + f.err.Error() }
func (f *integrityFailure) Unwrap() error { return f.err }

// read returns a stored object's bytes, checked against want on the way (want "" means the
// store's own digest: the product records none for a package's signature document).
func (s *Service) read(ctx context.Context, key, version, want, object string) ([]byte, error) {
	var b bytes.Buffer
	if err := s.copyVerified(ctx, &b, key, version, want, object); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// copyVerified streams a stored object into w through the integrity check; w has only
// part of it when an error comes back.
func (s *Service) copyVerified(ctx context.Context, w io.Writer, key, version, want, object string) error {
	rc, _, err := objectstore.VerifiedGet(ctx, s.Objects, key, version, want)
	if err != nil {
		return readFailure(err, FailRenderError, object, want)
	}
	defer rc.Close()
	if _, err := io.Copy(w, rc); err != nil {
		return readFailure(err, FailUnknown, object, want)
	}
	return nil
}

func readFailure(err error, class, object, want string) error {
	if !artifacts.IntegrityFailure(err) {
		return &failure{class: class, err: err}
	}
	var ie *objectstore.IntegrityError
	if errors.As(err, &ie) {
		want = ie.Want // the store's digest, when the product records none
	}
	return &integrityFailure{object: object, want: want, err: err}
}

func (s *Service) sendEmail(ctx context.Context, tenantID string, st settings.Settings, rec Record) error {
	if s.Mailer == nil {
		return errNoMailer
	}
	c, _, err := s.content(ctx, tenantID, rec)
	if err != nil {
		return err
	}
	env, err := s.envelope(ctx, st, rec, c)
	if err != nil {
		return err
	}
	raw, err := mailer.Build(env)
	if err != nil {
		return &failure{class: FailRenderError, err: err}
	}
	_, err = s.Mailer.Send(ctx, mailer.Message{From: st.DeliveryProvider.SenderAddress, To: rec.Recipients, Raw: raw})
	return err
}

// attemptMessageID is the Message-ID of the next attempt's mail: the delivery and attempt
// number, so a provider that can be asked (mailer.Finder) can say whether it has it.
func attemptMessageID(rec Record, sender string) string {
	return rec.ID() + "." + fmt.Sprint(len(rec.Attempts)+1) + "@" + domainOf(sender)
}

// envelope brands the mail and attaches the content under the size limit, else links it.
func (s *Service) envelope(ctx context.Context, st settings.Settings, rec Record, c content) (mailer.Envelope, error) {
	dp, br := st.DeliveryProvider, st.Branding
	from := dp.SenderAddress
	if dp.SenderDisplayName != "" {
		from = mime.QEncoding.Encode("utf-8", dp.SenderDisplayName) + " <" + dp.SenderAddress + ">"
	}
	title := strings.TrimSpace(br.ReportTitlePrefix + " " + strings.ReplaceAll(rec.ReportID, "_", " "))
	var text strings.Builder
	if rec.Message != "" {
		text.WriteString(rec.Message + "\n\n")
	}
	fmt.Fprintf(&text, "%s\nDigest: %s\nDelivery: %s\n", title, rec.SubjectDigest, rec.DeliveryRef)
	env := mailer.Envelope{From: from, To: rec.Recipients, Subject: title, Date: s.Clock.Now(),
		MessageID: rec.PendingMessageID}
	if env.MessageID == "" {
		env.MessageID = attemptMessageID(rec, dp.SenderAddress)
	}
	// The recorded size decides before any byte is read, so a large artifact is never
	// loaded into memory only to be linked instead. Attached or linked, the bytes are
	// checked first: nothing is mailed for content that fails its digest.
	verified := false
	if c.size < 0 || c.size <= int64(dp.MaxAttachmentBytes) {
		body, err := s.read(ctx, c.key, c.version, c.digest, c.object)
		if err != nil {
			return mailer.Envelope{}, err
		}
		verified = true
		if len(body) <= dp.MaxAttachmentBytes {
			env.Attachments = []mailer.Attachment{{Filename: c.name, ContentType: c.contentType, Data: body}}
		}
	}
	if len(env.Attachments) == 0 {
		if !verified {
			if err := s.copyVerified(ctx, io.Discard, c.key, c.version, c.digest, c.object); err != nil {
				return mailer.Envelope{}, err
			}
		}
		link, err := s.Objects.PresignGet(ctx, c.key, c.version, LinkTTL)
		if err != nil {
			return mailer.Envelope{}, &failure{class: FailUnknown, err: err}
		}
		fmt.Fprintf(&text, "\nThe report is larger than the attachment limit. Download it within %s:\n%s\n", LinkTTL, link)
	}
	if br.FooterText != "" {
		text.WriteString("\n-- \n" + br.FooterText + "\n")
	}
	env.TextBody = text.String()
	return env, nil
}

// GRCKey is where a package's GRC export lands: under the tenant's folder and its GRC
// export prefix, so one tenant's exports can never land in another's.
func GRCKey(tenantID, prefix, packageRef, name string) string {
	p := strings.Trim(prefix, "/")
	if p == "" {
		p = "grc-exports"
	}
	return "tenants/" + tenantID + "/grc/" + p + "/" + strings.TrimPrefix(packageRef, "package:") + "/" + name
}

// exportGRC writes the signed package (manifest and signature) to the GRC export prefix.
func (s *Service) exportGRC(ctx context.Context, tenantID string, st settings.Settings, rec Record) error {
	_, pkg, err := s.content(ctx, tenantID, rec)
	if err != nil {
		return err
	}
	files := []struct {
		key, ver, name, want, object string
		body                         []byte
	}{
		{key: pkg.ManifestKey, ver: pkg.ManifestVer, name: "manifest.json", want: pkg.ManifestDigest, object: artifacts.ObjectManifest},
		{key: pkg.SignatureKey, ver: pkg.SignatureVer, name: "manifest.sig.json", object: artifacts.ObjectSignature},
	}
	// Both files pass their check before either is copied: a manifest without its
	// signature must not reach the GRC prefix.
	for i := range files {
		if files[i].body, err = s.read(ctx, files[i].key, files[i].ver, files[i].want, files[i].object); err != nil {
			return err
		}
	}
	for _, f := range files {
		_, err = s.Objects.Put(ctx, objectstore.PutInput{Key: GRCKey(tenantID, st.DeliveryProvider.GRCExportPrefix, rec.SubjectRef, f.name),
			Body: bytes.NewReader(f.body), ContentType: "application/json", Metadata: map[string]string{"delivery-ref": rec.ID()}})
		if err != nil {
			return &failure{class: FailUnknown, err: err}
		}
	}
	return nil
}
