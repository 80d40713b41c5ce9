package module

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRootHasGoMod(t *testing.T) {
	root, err := Root(context.Background(), "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Errorf("Root = %s, which has no go.mod: %v", root, err)
	}
	if _, err := os.Stat(filepath.Join(root, "bench", "internal", "module")); err != nil {
		t.Errorf("Root = %s, which does not hold this package: %v", root, err)
	}
}

func TestRootOutsideModule(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("GO111MODULE", "on")
	t.Setenv("GOFLAGS", "")
	if _, err := Root(context.Background(), "test"); err == nil {
		t.Error("Root outside any module returned no error")
	}
}
