package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

// The sweep recognises exactly the names Write's pattern produces.
func TestTempPatternNamesAreWhatIsTempRecognises(t *testing.T) {
	dir := t.TempDir()
	for range 50 {
		f, err := os.CreateTemp(dir, tempPattern)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		if name := filepath.Base(f.Name()); !IsTemp(name) {
			t.Fatalf("Write's pattern made %q, which IsTemp does not recognise", name)
		}
	}
}
