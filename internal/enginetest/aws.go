package enginetest

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"testing"
	"time"

	"mtrlz.dev/ci-infra/internal/fakecloud"
)

// UseAWSAPIs points the project's awscli and the fake cloud at a fresh
// moto_server on loopback, and at the fake cloud's stub for what moto
// cannot serve (CloudFormation, Auto Scaling): the operator scripts' aws
// calls then meet real AWS APIs and answer formats. moto comes with these
// machines; .ci/run checks that it is there.
func (p *Project) UseAWSAPIs(t testing.TB) {
	t.Helper()
	moto := startMoto(t)
	stub := httptest.NewServer(fakecloud.AWSStub(p.Cloud, ""))
	t.Cleanup(stub.Close)
	for k, v := range map[string]string{
		fakecloud.EnvMoto:                 moto,
		"AWS_ENDPOINT_URL":                moto,
		"AWS_ENDPOINT_URL_CLOUDFORMATION": stub.URL,
		"AWS_ENDPOINT_URL_AUTO_SCALING":   stub.URL,
		"AWS_ACCESS_KEY_ID":               "engine-test-not-a-key",
		"AWS_SECRET_ACCESS_KEY":           "engine-test-not-a-secret",
		"AWS_DEFAULT_REGION":              "us-east-1",
	} {
		p.SetEnv(k, v)
	}
}

// startMoto starts moto_server on a free loopback port and returns its URL.
func startMoto(t testing.TB) string {
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
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if resp, err := client.Get(url + "/moto-api/"); err == nil {
			resp.Body.Close()
			return url
		}
	}
	t.Fatalf("moto_server did not answer on %s within 30 s", url)
	return ""
}
