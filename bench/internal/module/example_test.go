package module_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/greenhub/greenhub/bench/internal/module"
)

// A benchmark command finds the module's root, wherever in the module it
// is run from, and builds its peers and writes its reports under it.
func ExampleRoot() {
	root, err := module.Root(context.Background(), "go run ./bench/cmd/compare")
	if err != nil {
		log.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		log.Fatal(err)
	}
	first, _, _ := bytes.Cut(gomod, []byte("\n"))
	fmt.Println(string(first))
	// Output: module github.com/greenhub/greenhub
}
