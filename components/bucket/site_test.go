package bucket

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/internal/plan"
	"mtrlz.dev/ci-infra/internal/testkit/plantest"
)

func sitePlan(t *testing.T, args SiteArgs) *plan.Plan {
	t.Helper()
	return plantest.Run(t, plantest.Component(func(ctx *pulumi.Context) error {
		_, err := NewSite(ctx, "site", args)
		return err
	}), nil)
}

func base() SiteArgs {
	return SiteArgs{Domain: "downloads.mtrlz.dev", BucketName: "downloads.mtrlz.dev", BucketRegion: "us-west-2", LogRetentionDays: 90}
}

// The three ways the site comes up: with the public zone in one up; without
// it, a certificate first and the alias once it is issued; or no alias.
func TestSiteModes(t *testing.T) {
	withZone := base()
	withZone.PublicZoneID = "Z0PUBLICZONE"
	issued := base()
	issued.CertificateIssued = true
	noAlias := base()
	noAlias.Domain = ""
	tests := []struct {
		name                                 string
		args                                 SiteArgs
		certificate, validation, aliasRecord bool
		servesDomain                         bool
	}{
		{"public zone managed: validated and aliased in one up", withZone, true, true, true, true},
		{"no zone, first up: the certificate only", base(), true, false, false, false},
		{"no zone, certificate issued: the alias is served", issued, true, false, false, true},
		{"no domain (a rebuild elsewhere)", noAlias, false, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := sitePlan(t, tt.args)
			assert.Equal(t, tt.certificate, len(p.Find("aws:acm/certificate:Certificate", "")) == 1)
			assert.Equal(t, tt.validation, len(p.Find("aws:acm/certificateValidation:CertificateValidation", "")) == 1)
			assert.Equal(t, tt.aliasRecord, len(p.Find("aws:route53/record:Record", "site-alias-a")) == 1)
			d, err := p.Get("aws:cloudfront/distribution:Distribution", "site-distribution")
			require.NoError(t, err)
			viewer := d.Input("viewerCertificate").(map[string]any)
			if tt.servesDomain {
				assert.Equal(t, []any{"downloads.mtrlz.dev"}, d.Input("aliases"))
				assert.Equal(t, MinimumProtocolVersion, viewer["minimumProtocolVersion"])
			} else {
				assert.Nil(t, d.Input("aliases"), "no alias without an issued certificate")
				assert.Equal(t, true, viewer["cloudfrontDefaultCertificate"])
			}
			// CloudFront's certificate and log delivery use the us-east-1
			// provider, whatever the stack's region.
			provider, err := p.Get("pulumi:providers:aws", "site-us-east-1")
			require.NoError(t, err)
			assert.Equal(t, "us-east-1", provider.Input("region"))
		})
	}
}

func TestSiteArgsAreValidated(t *testing.T) {
	for name, tt := range map[string]struct {
		edit func(*SiteArgs)
		want string
	}{
		"bad domain":       {func(a *SiteArgs) { a.Domain = "Downloads MTRLZ" }, `domain name "Downloads MTRLZ"`},
		"bad zone":         {func(a *SiteArgs) { a.PublicZoneID = "zone" }, "not a hosted zone ID"},
		"zone, no domain":  {func(a *SiteArgs) { a.Domain, a.PublicZoneID = "", "Z0PUBLICZONE" }, "no record to write"},
		"no bucket":        {func(a *SiteArgs) { a.BucketName = "" }, "BucketName and BucketRegion are required"},
		"no log retention": {func(a *SiteArgs) { a.LogRetentionDays = 0 }, "LogRetentionDays"},
	} {
		t.Run(name, func(t *testing.T) {
			args := base()
			tt.edit(&args)
			plantest.Rejects(t, func(ctx *pulumi.Context) error {
				_, err := NewSite(ctx, "site", args)
				return err
			}, tt.want)
		})
	}
}
