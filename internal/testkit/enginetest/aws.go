package enginetest

import (
	"net/http/httptest"
	"testing"

	"mtrlz.dev/ci-infra/internal/testkit/fakecloud"
	"mtrlz.dev/ci-infra/internal/testkit/testenv"
)

// UseAWSAPIs points the project's awscli and the fake cloud at a fresh
// moto_server on loopback, and at the fake cloud's stub for what moto
// cannot serve (CloudFormation, Auto Scaling): the operator scripts' aws
// calls then meet real AWS APIs and answer formats. moto comes with these
// machines; .ci/run checks that it is there.
func (p *Project) UseAWSAPIs(t testing.TB) {
	t.Helper()
	moto := testenv.StartMoto(t)
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
