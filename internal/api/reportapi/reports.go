package reportapi

import (
	"context"
	"errors"
	"github.com/cavra-enterprise/aispm-reports/internal/api"
	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"net/http"

	"github.com/cavra-enterprise/aispm-reports/internal/artifacts"
	"github.com/cavra-enterprise/aispm-reports/internal/manifest"
	"github.com/cavra-enterprise/aispm-reports/internal/problem"
	"github.com/cavra-enterprise/aispm-reports/internal/search"
)

// errNoSigner is a deployment fault (no signing key configured), answered as a 5xx.
var errNoSigner = errors.New("package signing is not configured: set the signing key")

// ArtifactView is the API's artifact metadata.
type ArtifactView struct {
	ArtifactRef       string `json:"artifact_ref"`
	ReportID          string `json:"report_id"`
	Format            string `json:"format"`
	ContentType       string `json:"content_type"`
	SizeBytes         int64  `json:"size_bytes"`
	Digest            string `json:"digest"`
	RetentionClass    string `json:"retention_class"`
	RetainUntil       string `json:"retain_until"`
	LifecycleState    string `json:"lifecycle_state"`
	LegalHoldRef      string `json:"legal_hold_ref,omitempty"`
	DataSnapshotRef   string `json:"data_snapshot_ref"`
	TemplateVersion   string `json:"template_version"`
	WindowFrom        string `json:"window_from"`
	WindowTo          string `json:"window_to"`
	RenderRef         string `json:"render_ref"`
	CreatedAt         string `json:"created_at"`
	ImmutableStoreRef string `json:"immutable_store_ref"`
	EvidenceRef       string `json:"evidence_ref"`
	LastEvidenceRef   string `json:"last_evidence_ref"`
}

func (h *Services) view(rec artifacts.Record) ArtifactView {
	return ArtifactView{ArtifactRef: rec.ArtifactRef, ReportID: rec.ReportID, Format: rec.Format, ContentType: rec.ContentType,
		SizeBytes: rec.Size, Digest: rec.Digest, RetentionClass: rec.RetentionClass, RetainUntil: rec.RetainUntil,
		LifecycleState: rec.Effective(h.Artifacts.Now()), LegalHoldRef: rec.LegalHoldRef, DataSnapshotRef: rec.SnapshotRef,
		TemplateVersion: rec.TemplateVersion, WindowFrom: rec.WindowFrom, WindowTo: rec.WindowTo, RenderRef: rec.RenderRef,
		CreatedAt: rec.CreatedAt, ImmutableStoreRef: rec.ImmutableStoreRef(), EvidenceRef: rec.EvidenceRef, LastEvidenceRef: rec.LastEvidenceRef}
}

type renderBody struct {
	RenderRef       string         `json:"render_ref"`
	DataSnapshotRef string         `json:"data_snapshot_ref"`
	Artifacts       []ArtifactView `json:"artifacts"`
	EvidenceRef     string         `json:"evidence_ref"`
	Package         *packageBody   `json:"package,omitempty"`
}

func postRender(ctx context.Context, h *Services, r api.Request) (api.Response, error) {
	t, err := h.tenant(ctx, r)
	if err != nil {
		return api.Response{}, err
	}
	role := string(r.Principal.Role)
	req, err := artifacts.ParseRenderRequest(r.Body, t, role, h.Artifacts.Now())
	if err != nil {
		return api.Response{}, err
	}
	if req.PackageType != "" && h.Signer == nil {
		return api.Response{}, errNoSigner
	}
	out, err := h.Artifacts.Render(ctx, t, role, req)
	if err != nil {
		return api.Response{}, err
	}
	body := renderBody{RenderRef: out.RenderRef, DataSnapshotRef: out.SnapshotRef, EvidenceRef: out.EvidenceRef}
	refs := make([]string, 0, len(out.Artifacts))
	for _, rec := range out.Artifacts {
		body.Artifacts = append(body.Artifacts, h.view(rec))
		refs = append(refs, rec.ArtifactRef)
	}
	if req.PackageType != "" {
		class := ""
		if req.RetentionClass == artifacts.LegalHoldClass {
			class = artifacts.LegalHoldClass
		}
		pkg, err := h.Packages.Create(ctx, t.ID, role, manifest.Request{PackageType: req.PackageType, ArtifactRefs: refs, RetentionClass: class})
		if err != nil {
			return api.Response{}, err
		}
		pb := packageView(pkg)
		body.Package = &pb
	}
	return api.JSON(http.StatusCreated, body), nil
}

func getArtifact(ctx context.Context, h *Services, r api.Request) (api.Response, error) {
	rec, err := h.Artifacts.Get(ctx, r.Principal.TenantID, r.PathParams["artifact"])
	if err != nil {
		return api.Response{}, err
	}
	// Outside the role's scope looks exactly like absent.
	if !search.ScopeFor(string(r.Principal.Role)).Visible(rec, rec.Effective(h.Artifacts.Now())) {
		return api.Response{}, artifacts.ErrNotFound
	}
	return api.JSON(http.StatusOK, h.view(rec)), nil
}

type lifecycleBody struct {
	Artifact    ArtifactView `json:"artifact"`
	EvidenceRef string       `json:"evidence_ref"`
}

func postLegalHold(ctx context.Context, h *Services, r api.Request) (api.Response, error) {
	req, err := artifacts.ParseHold(r.Body)
	if err != nil {
		return api.Response{}, err
	}
	rec, ev, err := h.Artifacts.SetLegalHold(ctx, r.Principal.TenantID, string(r.Principal.Role), r.PathParams["artifact"], req)
	if err != nil {
		return api.Response{}, err
	}
	return api.JSON(http.StatusOK, lifecycleBody{Artifact: h.view(rec), EvidenceRef: ev}), nil
}

func postReleaseHold(ctx context.Context, h *Services, r api.Request) (api.Response, error) {
	req, err := artifacts.ParseHold(r.Body)
	if err != nil {
		return api.Response{}, err
	}
	rec, ev, err := h.Artifacts.ReleaseLegalHold(ctx, r.Principal.TenantID, string(r.Principal.Role), r.PathParams["artifact"], req)
	if err != nil {
		return api.Response{}, err
	}
	return api.JSON(http.StatusOK, lifecycleBody{Artifact: h.view(rec), EvidenceRef: ev}), nil
}

func deleteArtifact(ctx context.Context, h *Services, r api.Request) (api.Response, error) {
	if len(r.Body) > 0 {
		return api.Response{}, problem.New(problem.Invalid, "schema_violation", "", "DELETE takes no body")
	}
	rec, ev, err := h.Artifacts.Delete(ctx, r.Principal.TenantID, string(r.Principal.Role), r.PathParams["artifact"])
	if err != nil {
		return api.Response{}, err
	}
	return api.JSON(http.StatusOK, lifecycleBody{Artifact: h.view(rec), EvidenceRef: ev}), nil
}

func postDeletionReadiness(ctx context.Context, h *Services, r api.Request) (api.Response, error) {
	if err := search.ParseRetrieve(r.Body); err != nil {
		return api.Response{}, err
	}
	out, err := h.Artifacts.DeletionReadiness(ctx, r.Principal.TenantID, string(r.Principal.Role))
	if err != nil {
		return api.Response{}, err
	}
	return api.JSON(http.StatusOK, out), nil
}

func postSearch(ctx context.Context, h *Services, r api.Request) (api.Response, error) {
	req, err := search.ParseRequest(r.Body)
	if err != nil {
		return api.Response{}, err
	}
	out, err := h.Search.Search(ctx, r.Principal.TenantID, string(r.Principal.Role), req)
	if err != nil {
		return api.Response{}, err
	}
	return api.JSON(http.StatusOK, out), nil
}

func postRetrieval(ctx context.Context, h *Services, r api.Request) (api.Response, error) {
	if err := search.ParseRetrieve(r.Body); err != nil {
		return api.Response{}, err
	}
	out, err := h.Search.Retrieve(ctx, r.Principal.TenantID, string(r.Principal.Role), r.PathParams["artifact"])
	if err != nil {
		return api.Response{}, err
	}
	if out.URL != "" {
		if err := h.verifyBeforeLink(ctx, r, out); err != nil {
			return api.Response{}, err
		}
	}
	// The link is a bearer credential: keep it out of shared caches.
	resp := api.JSON(http.StatusOK, out)
	resp.Header = http.Header{"Cache-Control": {"no-store"}}
	return resp, nil
}

// verifyBeforeLink checks the artifact's stored bytes against its recorded digest before
// the link leaves: in AWS the link goes straight to S3, which never sees the product's
// record. The check runs after the access decision, so a caller outside the role's scope
// learns nothing of the bytes; a failure withholds the link (409 integrity_failure).
func (h *Services) verifyBeforeLink(ctx context.Context, r api.Request, out search.Retrieval) error {
	rec, err := h.Artifacts.Get(ctx, r.Principal.TenantID, out.ArtifactRef)
	if err != nil {
		return err
	}
	return h.Artifacts.VerifyStored(ctx, r.Principal.TenantID, string(r.Principal.Role), rec, []string{rec.ArtifactRef, out.RetrievalRef})
}

type packageBody struct {
	PackageRef     string            `json:"package_ref"`
	ManifestDigest string            `json:"manifest_digest"`
	Manifest       manifest.Manifest `json:"manifest"`
	ManifestRef    string            `json:"manifest_ref"`
	SignatureRef   string            `json:"signature_ref"`
	EvidenceRef    string            `json:"evidence_ref"`
}

func packageView(rec manifest.Record) packageBody {
	return packageBody{PackageRef: rec.Manifest.PackageRef, ManifestDigest: rec.ManifestDigest, Manifest: rec.Manifest,
		ManifestRef: "worm:" + rec.ManifestKey + "#" + rec.ManifestVer, SignatureRef: "worm:" + rec.SignatureKey + "#" + rec.SignatureVer,
		EvidenceRef: rec.EvidenceRef}
}

func postPackage(ctx context.Context, h *Services, r api.Request) (api.Response, error) {
	req, err := manifest.ParseRequest(r.Body)
	if err != nil {
		return api.Response{}, err
	}
	if req.RetentionClass == artifacts.LegalHoldClass && !mayPlaceLegalHold(r.Principal.Role) {
		return api.Response{}, problem.New(problem.Forbidden, "forbidden", "retention_class", "only tenant_admin or security_leadership may place a legal hold")
	}
	if h.Signer == nil {
		return api.Response{}, errNoSigner
	}
	rec, err := h.Packages.Create(ctx, r.Principal.TenantID, string(r.Principal.Role), req)
	if err != nil {
		return api.Response{}, err
	}
	return api.JSON(http.StatusCreated, packageView(rec)), nil
}

func getPackage(ctx context.Context, h *Services, r api.Request) (api.Response, error) {
	rec, err := h.Packages.Get(ctx, r.Principal.TenantID, r.PathParams["package"])
	if err != nil {
		return api.Response{}, err
	}
	return api.JSON(http.StatusOK, packageView(rec)), nil
}

// mayPlaceLegalHold: a package retained under legal hold places a hold, so it takes the
// roles of the legal-hold route.
func mayPlaceLegalHold(role auth.Role) bool {
	hold, ok := api.FindRoute("post-legal-hold")
	return ok && hold.Allows(role)
}
