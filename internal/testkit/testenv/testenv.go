// Package testenv is what every test package shares that needs no Pulumi:
// the repository root, golden files and the -update flag that rewrites them,
// and the tools the tests run (shellcheck, moto). It stays free of the
// Pulumi SDK so that a test of a shell script or a naming rule links in a
// fraction of a second; internal/testkit/plantest builds the mocks on top of it.
package testenv

import (
	"bytes"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// update is registered by every test package through this one, so that
// `go test ./... -update` works across the tree.
var update = flag.Bool("update", false, "rewrite golden files with the current output")

// Update tells whether the tests run with -update, for a golden file that
// GoldenFile cannot keep (a generated part of a larger file).
func Update() bool { return *update }

// Root is the repository root (the directory of go.mod).
func Root(t testing.TB) string {
	t.Helper()
	return RootDir()
}

// RootDir is Root for code that runs outside a test's goroutine (a tool
// built once per test binary).
func RootDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

// ProdPlanFile is the committed JSON plan of prod, relative to the root.
// cmd/plan's TestProdPlanGolden fails whenever it differs from what the
// program plans, so a test that needs prod's resources reads it instead of
// linking and running the whole program (each such test binary costs about
// two seconds of linking).
const ProdPlanFile = "cmd/plan/testdata/prod.json"

// ProdPlan returns the content of ProdPlanFile. A run with -update rewrites
// that file while other packages may be reading it: run the tests once more
// (without -update) before committing.
func ProdPlan(t testing.TB) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(Root(t), ProdPlanFile))
	require.NoError(t, err, "run `go test ./cmd/plan -update` to write the production plan")
	return raw
}

// Golden compares got with testdata/NAME next to the test, or rewrites the
// file when the tests run with -update.
func Golden(t testing.TB, name string, got []byte) {
	t.Helper()
	GoldenFile(t, filepath.Join("testdata", name), got)
}

// GoldenFile is Golden for a file at any path of the package: a generated
// file that the program itself reads (policies/generated.rego).
func GoldenFile(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "no golden file: run `go test ./... -update` and review the diff")
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs from the current output; if the change is intended, run `go test ./... -update` and commit the diff.\n%s", path, firstDifference(want, got))
	}
}

func firstDifference(want, got []byte) string {
	wl, gl := bytes.Split(want, []byte("\n")), bytes.Split(got, []byte("\n"))
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g []byte
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if !bytes.Equal(w, g) {
			return fmt.Sprintf("first difference at line %d:\n  want: %s\n  got:  %s", i+1, w, g)
		}
	}
	return ""
}

// ShellcheckPath finds shellcheck. CI installs it and fails without it; a
// laptop without it skips the lint.
func ShellcheckPath(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("shellcheck")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("shellcheck is not installed; .ci/run must install it")
		}
		t.Skip("shellcheck not installed")
	}
	return path
}

// motoStart bounds how long moto_server may take to answer.
const motoStart = 3 * time.Minute

// StartMoto starts moto_server on a free loopback port, stopped when the
// test ends, and returns its URL. moto comes with these machines and CI.
func StartMoto(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("moto_server")
	if err != nil {
		t.Fatalf("moto_server is not installed: the engine tests need it (.ci/run checks for it): %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(path, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	client := &http.Client{Timeout: time.Second}
	// Generous: moto is a Python server, and on a loaded machine its start
	// alone can take many seconds. No verdict depends on how fast it starts.
	for deadline := time.Now().Add(motoStart); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if resp, err := client.Get(url + "/moto-api/"); err == nil {
			resp.Body.Close()
			return url
		}
	}
	t.Fatalf("moto_server did not answer on %s within %s", url, motoStart)
	return ""
}
