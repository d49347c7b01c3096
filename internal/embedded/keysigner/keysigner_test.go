package keysigner_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cavra-enterprise/aispm-reports/internal/embedded/keysigner"
	"github.com/cavra-enterprise/aispm-reports/internal/signer"
	"github.com/cavra-enterprise/aispm-reports/internal/signer/signertest"
)

func TestContract(t *testing.T) {
	signertest.Run(t, func(t *testing.T) signer.Signer {
		s, err := keysigner.LoadOrCreate(filepath.Join(t.TempDir(), "signing.pem"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestKeyFilePersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signing.pem")
	first, err := keysigner.LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %o, want 600", info.Mode().Perm())
	}
	raw, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(raw), "-----BEGIN PRIVATE KEY-----") {
		t.Errorf("key file is not PKCS#8 PEM: %.40q", raw)
	}
	again, err := keysigner.LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	if first.KeyID() != again.KeyID() {
		t.Errorf("reloaded key id %q, want %q", again.KeyID(), first.KeyID())
	}
	if !strings.HasPrefix(first.KeyID(), "ed25519:") || len(first.KeyID()) != len("ed25519:")+16 {
		t.Errorf("key id %q, want ed25519:<16 hex>", first.KeyID())
	}
	if first.Algorithm() != signer.Ed25519 {
		t.Errorf("algorithm %q", first.Algorithm())
	}
}

func TestRefusesLooseKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signing.pem")
	if _, err := keysigner.LoadOrCreate(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := keysigner.LoadOrCreate(path); err == nil {
		t.Error("LoadOrCreate accepted a world-readable key file")
	}
}

func TestRejectsGarbage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signing.pem")
	if err := os.WriteFile(path, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := keysigner.LoadOrCreate(path); err == nil {
		t.Error("LoadOrCreate accepted a file with no key")
	}
}
