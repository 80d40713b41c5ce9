package study

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// serveEnv makes the test binary an executor process (ServeMain), so that
// tests can run Run's process path with Config.Serve = {os.Args[0]}.
const serveEnv = "GREENHUB_STUDY_TEST_SERVE"

func TestMain(m *testing.M) {
	if os.Getenv(serveEnv) == "1" {
		os.Exit(ServeMain(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	goleak.VerifyTestMain(m)
}
