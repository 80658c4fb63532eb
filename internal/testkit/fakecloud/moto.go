package fakecloud

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"mtrlz.dev/ci-infra/internal/cloudmodel"
)

// EnvMoto names the environment variable with the URL of a moto_server. When
// it is set, the provider also creates, in moto, what an operator's awscli
// reads after `pulumi up` (buckets and their objects, the private zone, the
// OIDC provider), so that scripts/dr-rebuild's checks meet real AWS APIs
// and answers. CloudFormation stacks and their auto-scaling groups are not
// mirrored: moto cannot run the Elastic CI Stack template; AWSStub answers
// for them.
const EnvMoto = "FAKECLOUD_MOTO_URL"

// moto creates resources in a moto_server. moto checks no signature, but it
// routes a request by the service of its credential scope, so each request
// carries a well-formed Authorization header with a placeholder signature.
type moto struct {
	url    string
	client *http.Client
}

func newMoto(url string) *moto {
	if url == "" {
		return nil
	}
	return &moto{url: strings.TrimSuffix(url, "/"), client: &http.Client{Timeout: 10 * time.Second}}
}

// mirror creates r in moto and returns the ID moto gave it, or "" to keep
// the fake cloud's own.
func (m *moto) mirror(typ string, inputs resource.PropertyMap, at Place) (string, error) {
	if m == nil {
		return "", nil
	}
	in := func(key string) string { return cloudmodel.StringInput(inputs, key) }
	switch typ {
	case "aws:s3/bucketV2:BucketV2":
		var body string
		if at.Region != "us-east-1" {
			body = `<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>` + at.Region + `</LocationConstraint></CreateBucketConfiguration>`
		}
		_, err := m.do("PUT", "/"+in("bucket"), "s3", at.Region, "application/xml", body)
		return "", err
	case "aws:s3/bucketObjectv2:BucketObjectv2":
		contentType := in("contentType")
		if contentType == "" {
			contentType = "binary/octet-stream"
		}
		_, err := m.do("PUT", "/"+in("bucket")+"/"+in("key"), "s3", at.Region, contentType, in("content"))
		return "", err
	case "aws:route53/zone:Zone":
		var vpc string
		if vpcs := inputs["vpcs"]; vpcs.IsArray() && len(vpcs.ArrayValue()) > 0 && vpcs.ArrayValue()[0].IsObject() {
			vpc = cloudmodel.StringInput(vpcs.ArrayValue()[0].ObjectValue(), "vpcId")
		}
		body := `<?xml version="1.0" encoding="UTF-8"?><CreateHostedZoneRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/">` +
			`<Name>` + in("name") + `</Name><CallerReference>` + cloudmodel.StableHash(in("name"), vpc, at.Region)[:32] + `</CallerReference>`
		if vpc != "" {
			body += `<HostedZoneConfig><PrivateZone>true</PrivateZone></HostedZoneConfig><VPC><VPCRegion>` + at.Region + `</VPCRegion><VPCId>` + vpc + `</VPCId></VPC>`
		}
		body += `</CreateHostedZoneRequest>`
		out, err := m.do("POST", "/2013-04-01/hostedzone", "route53", "us-east-1", "text/xml", body)
		if err != nil {
			return "", err
		}
		var created struct {
			ID string `xml:"HostedZone>Id"`
		}
		if err := xml.Unmarshal(out, &created); err != nil || created.ID == "" {
			return "", fmt.Errorf("moto: creating the zone %s: %v %s", in("name"), err, out)
		}
		return strings.TrimPrefix(created.ID, "/hostedzone/"), nil
	case "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
		form := url.Values{"Action": {"CreateOpenIDConnectProvider"}, "Version": {"2010-05-08"}, "Url": {in("url")}}
		if ids := inputs["clientIdLists"]; ids.IsArray() {
			for i, id := range ids.ArrayValue() {
				form.Set(fmt.Sprintf("ClientIDList.member.%d", i+1), id.StringValue())
			}
		}
		_, err := m.do("POST", "/", "iam", "us-east-1", "application/x-www-form-urlencoded", form.Encode())
		return "", err
	}
	return "", nil
}

func (m *moto) do(method, path, service, region, contentType, body string) ([]byte, error) {
	req, err := http.NewRequest(method, m.url+path, bytes.NewBufferString(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", fmt.Sprintf(
		"AWS4-HMAC-SHA256 Credential=fakecloud/%s/%s/%s/aws4_request, SignedHeaders=host, Signature=0",
		time.Now().UTC().Format("20060102"), region, service))
	resp, err := m.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("moto: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return nil, fmt.Errorf("moto: %s %s: %s: %s", method, path, resp.Status, out)
	}
	return out, nil
}
